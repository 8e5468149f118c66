use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn write(text: &str) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), text).unwrap();
    f
}

#[test]
fn defaults_are_a_working_local_setup() {
    let c = Config::load(Some(write("").path()), &[]).unwrap();
    assert_eq!(c.issuer, "http://localhost:8080");
    assert_eq!(c.listen, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(
        c.database,
        DatabaseUrl::Sqlite(PathBuf::from("./ward-data/ward.db"))
    );
    assert!(matches!(c.master_key, MasterKeySource::File(ref p) if p.ends_with("master.key")));
    assert_eq!(
        c.password,
        PasswordParams {
            memory_kib: 19456,
            iterations: 2,
            parallelism: 1
        }
    );
    assert_eq!(c.tokens.authorization_code_seconds, 60);
    // HIPAA 164.528 / 164.530(j): six years of the accounting of disclosures.
    assert_eq!(c.disclosure_retention_days, 2190);
}

#[test]
fn environment_overrides_file_which_overrides_defaults() {
    let f = write(
        "issuer = \"https://id.example.org\"\nlisten = \"127.0.0.1:9000\"\n[password]\niterations = 3\n",
    );
    let c = Config::load(
        Some(f.path()),
        &env(&[
            ("WARD_LISTEN", "127.0.0.1:9100"),
            ("WARD_PASSWORD_MEMORY_KIB", "65536"),
            ("WARD_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1"),
        ]),
    )
    .unwrap();
    assert_eq!(c.issuer, "https://id.example.org");
    assert_eq!(c.listen.port(), 9100);
    assert_eq!(c.password.iterations, 3);
    assert_eq!(c.password.memory_kib, 65536);
    assert_eq!(c.trusted_proxies.len(), 2);
}

#[test]
fn mandated_environment_names_exist() {
    let c = Config::load(
        Some(write("").path()),
        &env(&[
            ("WARD_ISSUER", "https://login.hospital.example"),
            ("WARD_DATABASE_URL", "postgres://ward@db/ward"),
            ("WARD_DATA_DIR", "/var/lib/ward"),
            ("WARD_LOG_FORMAT", "json"),
            (
                "WARD_MASTER_KEY",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            ),
        ]),
    )
    .unwrap();
    assert_eq!(c.issuer, "https://login.hospital.example");
    assert!(c.database.is_postgres());
    assert_eq!(c.data_dir, PathBuf::from("/var/lib/ward"));
    assert_eq!(c.log_format, LogFormat::Json);
    assert!(matches!(c.master_key, MasterKeySource::Inline(_)));
}

#[test]
fn unknown_file_key_is_refused_with_its_name() {
    let err = Config::load(Some(write("isuer = \"x\"\n").path()), &[]).unwrap_err();
    assert!(err.to_string().contains("isuer"), "{err}");
}

#[test]
fn malformed_file_is_refused() {
    let err = Config::load(Some(write("issuer = \n").path()), &[]).unwrap_err();
    assert!(matches!(err, ConfigError::File { .. }), "{err}");
}

#[test]
fn wrong_type_names_the_key() {
    let err = Config::load(
        Some(write("[password]\niterations = \"two\"\n").path()),
        &[],
    )
    .unwrap_err();
    assert!(err.to_string().contains("iterations"), "{err}");
    let err = Config::load(
        Some(write("").path()),
        &env(&[("WARD_PASSWORD_ITERATIONS", "two")]),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("WARD_PASSWORD_ITERATIONS"),
        "{err}"
    );
}

#[test]
fn plain_http_issuer_is_refused_off_loopback() {
    for ok in [
        "http://localhost:8080",
        "http://127.0.0.1:8080",
        "http://[::1]:8080",
        "https://id.example.org",
    ] {
        validate_issuer(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    let err = validate_issuer("http://id.example.org").unwrap_err();
    assert!(
        err.to_string().contains("issuer") && err.to_string().contains("https"),
        "{err}"
    );
    assert!(validate_issuer("https://id.example.org/?x=1").is_err());
    assert!(validate_issuer("ftp://id.example.org").is_err());
}

#[test]
fn bad_values_name_their_keys() {
    let cases: &[(&str, &str, &str)] = &[
        ("WARD_LISTEN", "not-an-address", "listen"),
        ("WARD_LOG_FORMAT", "xml", "log_format"),
        ("WARD_MASTER_KEY", "c2hvcnQ=", "master_key"),
        ("WARD_DATABASE_URL", "mysql://x/y", "database_url"),
        ("WARD_TRUSTED_PROXIES", "10.0.0.0/99", "trusted_proxies"),
        ("WARD_PASSWORD_MEMORY_KIB", "1", "password.memory_kib"),
        (
            "WARD_TOKENS_AUTHORIZATION_CODE_SECONDS",
            "3600",
            "tokens.authorization_code_seconds",
        ),
        ("WARD_TLS_CERT", "/nonexistent/cert.pem", "tls_"),
        (
            "WARD_PRIVACY_DISCLOSURE_RETENTION_DAYS",
            "0",
            "privacy.disclosure_retention_days",
        ),
    ];
    for (var, value, key) in cases {
        let err = Config::load(Some(write("").path()), &env(&[(var, value)])).unwrap_err();
        assert!(err.to_string().contains(key), "{var}={value}: {err}");
        assert!(
            !err.to_string().contains("c2hvcnQ"),
            "the master key must never be echoed"
        );
    }
}

#[test]
fn unknown_ward_variables_are_warned_about() {
    let c = Config::load(
        Some(write("").path()),
        &env(&[("WARD_ISSEUR", "x"), ("WARD_CONFIG", "y")]),
    )
    .unwrap();
    assert_eq!(c.warnings.len(), 1);
    assert!(c.warnings[0].contains("WARD_ISSEUR"));
}

#[test]
fn database_urls_choose_the_backend() {
    assert!(
        DatabaseUrl::parse("postgresql://u:secret@h/db")
            .unwrap()
            .is_postgres()
    );
    assert_eq!(
        DatabaseUrl::parse("sqlite://./x.db").unwrap(),
        DatabaseUrl::Sqlite("./x.db".into())
    );
    assert_eq!(
        DatabaseUrl::parse("/tmp/w.db").unwrap(),
        DatabaseUrl::Sqlite("/tmp/w.db".into())
    );
    let redacted = DatabaseUrl::parse("postgres://u:secret@h/db")
        .unwrap()
        .redacted();
    assert!(!redacted.contains("secret"), "{redacted}");
}

#[test]
fn mail_is_off_by_default() {
    let c = Config::load(Some(write("").path()), &[]).unwrap();
    assert!(matches!(c.mail.transport, MailTransport::None));
    assert_eq!(c.mail.from.email.to_string(), "ward@localhost");
    assert_eq!(c.mail.from.name.as_deref(), Some("Ward"));
}

#[test]
fn mail_settings_come_from_file_and_environment() {
    let f = write("[mail]\ntransport = \"smtp\"\nsmtp_host = \"smtp.hospital.example\"\n");
    let c = Config::load(
        Some(f.path()),
        &env(&[
            ("WARD_MAIL_FROM", "Ward <ward@hospital.example>"),
            ("WARD_MAIL_SMTP_PORT", "465"),
            ("WARD_MAIL_SMTP_TLS", "tls"),
            ("WARD_MAIL_SMTP_USERNAME", "ward"),
            ("WARD_MAIL_SMTP_PASSWORD", "relay-secret-9931"),
            ("WARD_MAIL_TIMEOUT_SECONDS", "30"),
        ]),
    )
    .unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let MailTransport::Smtp(smtp) = &c.mail.transport else {
        panic!("{:?}", c.mail.transport)
    };
    assert_eq!(smtp.host, "smtp.hospital.example");
    assert_eq!(smtp.port, 465);
    assert_eq!(smtp.tls, SmtpTls::Tls);
    assert_eq!(smtp.timeout, std::time::Duration::from_secs(30));
    let credentials = smtp.credentials.as_ref().unwrap();
    assert_eq!(credentials.username, "ward");
    assert_eq!(credentials.password.as_str(), "relay-secret-9931");
    assert_eq!(c.mail.from.email.to_string(), "ward@hospital.example");
    assert!(!format!("{c:?}").contains("relay-secret-9931"));

    let c = Config::load(
        Some(write("[mail]\ntransport = \"smtp\"\nsmtp_host = \"relay.internal\"\n").path()),
        &[],
    )
    .unwrap();
    let MailTransport::Smtp(smtp) = &c.mail.transport else {
        panic!()
    };
    assert_eq!((smtp.port, smtp.tls), (587, SmtpTls::StartTls));
    assert!(smtp.credentials.is_none());
}

#[test]
fn the_file_transport_defaults_to_the_data_directory() {
    let c = Config::load(
        Some(write("").path()),
        &env(&[
            ("WARD_MAIL_TRANSPORT", "file"),
            ("WARD_DATA_DIR", "/var/lib/ward"),
        ]),
    )
    .unwrap();
    assert!(
        matches!(c.mail.transport, MailTransport::File { ref dir } if dir == Path::new("/var/lib/ward/mail"))
    );
    let c = Config::load(
        Some(write("").path()),
        &env(&[
            ("WARD_MAIL_TRANSPORT", "file"),
            ("WARD_MAIL_FILE_DIR", "/tmp/outbox"),
        ]),
    )
    .unwrap();
    assert!(
        matches!(c.mail.transport, MailTransport::File { ref dir } if dir == Path::new("/tmp/outbox"))
    );
}

#[test]
fn unencrypted_smtp_only_to_loopback() {
    for host in ["127.0.0.1", "::1", "[::1]", "localhost"] {
        let c = Config::load(
            Some(write("").path()),
            &env(&[
                ("WARD_MAIL_TRANSPORT", "smtp"),
                ("WARD_MAIL_SMTP_HOST", host),
                ("WARD_MAIL_SMTP_TLS", "none"),
            ]),
        )
        .unwrap_or_else(|e| panic!("{host}: {e}"));
        let MailTransport::Smtp(smtp) = &c.mail.transport else {
            panic!()
        };
        assert_eq!(smtp.tls, SmtpTls::None);
    }
    for host in ["smtp.hospital.example", "10.0.0.5", "localhost.example.org"] {
        let err = Config::load(
            Some(write("").path()),
            &env(&[
                ("WARD_MAIL_TRANSPORT", "smtp"),
                ("WARD_MAIL_SMTP_HOST", host),
                ("WARD_MAIL_SMTP_TLS", "none"),
            ]),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("WARD_MAIL_SMTP_TLS"),
            "{host}: {err}"
        );
    }
}

#[test]
fn bad_mail_values_name_their_keys_and_never_the_password() {
    let smtp = [
        ("WARD_MAIL_TRANSPORT", "smtp"),
        ("WARD_MAIL_SMTP_HOST", "smtp.hospital.example"),
        ("WARD_MAIL_SMTP_PASSWORD", "relay-secret-9931"),
    ];
    let cases: &[(&str, &str, &str)] = &[
        ("WARD_MAIL_TRANSPORT", "pigeon", "mail.transport"),
        ("WARD_MAIL_SMTP_TLS", "ssl", "mail.smtp_tls"),
        ("WARD_MAIL_FROM", "not an address", "mail.from"),
        (
            "WARD_MAIL_FROM",
            "ward@hospital.example\r\nBcc: x@y.example",
            "mail.from",
        ),
        ("WARD_MAIL_SMTP_PORT", "0", "mail.smtp_port"),
        ("WARD_MAIL_SMTP_PORT", "70000", "mail.smtp_port"),
        ("WARD_MAIL_SMTP_PORT", "smtp", "mail.smtp_port"),
        ("WARD_MAIL_TIMEOUT_SECONDS", "0", "mail.timeout_seconds"),
        ("WARD_MAIL_SMTP_HOST", "", "mail.smtp_host"),
        (
            "WARD_MAIL_SMTP_HOST",
            "smtp.hospital.example:25",
            "mail.smtp_host",
        ),
        // A password without a user name.
        ("WARD_MAIL_SMTP_USERNAME", "", "mail.smtp_username"),
    ];
    for (var, value, key) in cases {
        let mut vars = smtp.to_vec();
        vars.retain(|(k, _)| k != var);
        vars.push((var, value));
        if *var != "WARD_MAIL_SMTP_USERNAME" {
            vars.push(("WARD_MAIL_SMTP_USERNAME", "ward"));
        }
        let err = Config::load(Some(write("").path()), &env(&vars)).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(key) && text.contains(&env_name(key)),
            "{var}={value}: {text}"
        );
        assert!(!text.contains("relay-secret-9931"), "{text}");
    }

    // A user name without a password.
    let err = Config::load(
        Some(write("").path()),
        &env(&[
            ("WARD_MAIL_TRANSPORT", "smtp"),
            ("WARD_MAIL_SMTP_HOST", "smtp.hospital.example"),
            ("WARD_MAIL_SMTP_USERNAME", "ward"),
        ]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("mail.smtp_password"), "{err}");

    // A wrong type in the file names the key.
    let err = Config::load(Some(write("[mail]\nsmtp_port = \"x\"\n").path()), &[]).unwrap_err();
    assert!(err.to_string().contains("mail.smtp_port"), "{err}");
}
