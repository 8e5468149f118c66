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
