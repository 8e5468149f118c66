//! Networks (prefixes, lists) and the GeoIP database.

use super::*;
use crate::risk::network::{contains_any, prefix};

// ---- networks ----

#[test]
fn prefixes_group_addresses_by_network() {
    assert_eq!(prefix(ip("203.0.113.77")), "203.0.113.0/24");
    assert_eq!(prefix(ip("2001:db8:1:2::5")), "2001:db8:1::/48");
    assert_eq!(prefix(ip("::ffff:203.0.113.77")), "203.0.113.0/24");
}

#[test]
fn contains_any_maps_ipv4_mapped_addresses() {
    let nets: Vec<ipnet::IpNet> = vec![
        "10.0.0.0/8".parse().unwrap(),
        "2001:db8::/32".parse().unwrap(),
    ];
    assert!(contains_any(&nets, ip("10.2.3.4")));
    assert!(contains_any(&nets, ip("::ffff:10.2.3.4")));
    assert!(contains_any(&nets, ip("2001:db8:5::1")));
    assert!(!contains_any(&nets, ip("11.0.0.1")));
    assert!(!contains_any(&nets, ip("2001:db9::1")));
    assert!(!contains_any(&[], ip("10.2.3.4")));
}

// ---- GeoIP ----

const GEO_CSV: &str = "\u{feff}network,geoname_id,registered_country_geoname_id,represented_country_geoname_id,is_anonymous_proxy,is_satellite_provider,postal_code,latitude,longitude,accuracy_radius,is_anycast\r
\"1.0.0.0/24\",2077456,2077456,,0,0,,\"-33.4940\",\"143.2104\",1000,0\r
1.0.1.0/24,1814991,1814991,,0,0,,34.7732,113.7220,1000,0\r
1.0.2.0/24,1814991,1814991,,0,0,,,,1000,0\r
\r
2001:db8::/32,2988507,3017382,,0,0,75001,48.8566,2.3522,20,0\r
";

#[test]
fn geoip_parses_the_geolite2_layout() {
    let db = GeoDb::from_csv_str(GEO_CSV).unwrap();
    assert_eq!(db.range_counts(), (2, 1));
    assert_eq!(
        db.lookup(ip("1.0.0.200")),
        Some(GeoPoint {
            latitude: -33.494,
            longitude: 143.2104
        })
    );
    assert_eq!(db.lookup(ip("1.0.1.0")).unwrap().latitude, 34.7732);
    assert_eq!(db.lookup(ip("1.0.1.255")).unwrap().latitude, 34.7732);
    // The row without coordinates was skipped.
    assert_eq!(db.lookup(ip("1.0.2.1")), None);
    assert_eq!(db.lookup(ip("0.255.255.255")), None);
    assert_eq!(db.lookup(ip("9.9.9.9")), None);
    assert_eq!(db.lookup(ip("2001:db8:ffff::1")).unwrap(), PARIS);
    assert_eq!(db.lookup(ip("2001:db9::1")), None);
    // IPv4-mapped IPv6 is looked up as IPv4.
    assert_eq!(db.lookup(ip("::ffff:1.0.1.9")).unwrap().latitude, 34.7732);
}

#[test]
fn geoip_finds_columns_by_name() {
    let db = GeoDb::from_csv_str("longitude,latitude,network\n2.35,48.85,192.0.2.0/24\n").unwrap();
    assert_eq!(
        db.lookup(ip("192.0.2.1")),
        Some(GeoPoint {
            latitude: 48.85,
            longitude: 2.35
        })
    );
}

#[test]
fn geoip_most_specific_network_wins() {
    let csv = "network,latitude,longitude\n\
               10.0.0.0/8,1,1\n\
               10.1.0.0/16,2,2\n\
               10.1.2.0/24,3,3\n\
               10.200.0.0/16,4,4\n\
               ::ffff:10.1.2.128/121,5,5\n";
    let db = GeoDb::from_csv_str(csv).unwrap();
    let lat = |s: &str| db.lookup(ip(s)).map(|p| p.latitude);
    assert_eq!(lat("10.0.0.1"), Some(1.0));
    assert_eq!(lat("10.1.0.1"), Some(2.0));
    assert_eq!(lat("10.1.2.3"), Some(3.0));
    assert_eq!(lat("10.1.2.130"), Some(5.0));
    assert_eq!(lat("10.1.3.0"), Some(2.0));
    assert_eq!(lat("10.2.0.0"), Some(1.0));
    assert_eq!(lat("10.200.9.9"), Some(4.0));
    assert_eq!(lat("10.255.255.255"), Some(1.0));
    assert_eq!(lat("11.0.0.0"), None);
}

#[test]
fn geoip_covers_the_ends_of_the_address_space() {
    let csv = "network,latitude,longitude\n0.0.0.0/0,1,1\n255.255.255.255/32,2,2\n::/0,3,3\n";
    let db = GeoDb::from_csv_str(csv).unwrap();
    assert_eq!(db.lookup(ip("0.0.0.0")).unwrap().latitude, 1.0);
    assert_eq!(db.lookup(ip("255.255.255.254")).unwrap().latitude, 1.0);
    assert_eq!(db.lookup(ip("255.255.255.255")).unwrap().latitude, 2.0);
    assert_eq!(db.lookup(ip("ffff::1")).unwrap().latitude, 3.0);
}

#[test]
fn geoip_refuses_bad_rows_with_line_numbers() {
    let bad = |body: &str| {
        GeoDb::from_csv_str(&format!(
            "network,latitude,longitude\n1.0.0.0/24,1,1\n{body}\n"
        ))
        .unwrap_err()
    };
    assert!(
        bad("1.0.1.0/24,91,0").starts_with("line 3: latitude 91"),
        "{}",
        bad("1.0.1.0/24,91,0")
    );
    assert!(bad("1.0.1.0/24,0,-180.5").starts_with("line 3: longitude -180.5"));
    assert!(bad("1.0.1.0/24,north,0").starts_with("line 3: latitude \"north\""));
    assert!(bad("1.0.1.0/24,NaN,0").starts_with("line 3: latitude NaN"));
    assert!(bad("1.0.1.0/33,0,0").starts_with("line 3: network \"1.0.1.0/33\""));
    assert!(bad("1.0.1.0/24,0").starts_with("line 3: expected at least 3 fields"));
    assert_eq!(
        GeoDb::from_csv_str("network,lat,lon\n").unwrap_err(),
        "line 1: the header has no \"latitude\" column"
    );
    assert_eq!(GeoDb::from_csv_str("\n\n").unwrap_err(), "no header row");
}

#[test]
fn geoip_load_reads_a_file_and_names_it_in_errors() {
    let dir = std::env::temp_dir().join(format!("ward-risk-geoip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("blocks.csv");
    std::fs::write(&path, GEO_CSV).unwrap();
    let db = GeoDb::load(&path).unwrap();
    assert_eq!(db.lookup(ip("1.0.1.1")).unwrap().longitude, 113.722);
    let missing = dir.join("missing.csv");
    assert!(GeoDb::load(&missing).unwrap_err().contains("missing.csv"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn distance_paris_new_york() {
    let d = PARIS.distance_km(&NEW_YORK);
    assert!((d - 5837.0).abs() <= 10.0, "{d}");
    assert!((NEW_YORK.distance_km(&PARIS) - d).abs() < 1e-9);
    assert_eq!(PARIS.distance_km(&PARIS), 0.0);
    // Antipodes: half the circumference, no NaN from rounding.
    let a = GeoPoint {
        latitude: 0.0,
        longitude: 0.0,
    };
    let b = GeoPoint {
        latitude: 0.0,
        longitude: 180.0,
    };
    assert!((a.distance_km(&b) - std::f64::consts::PI * 6371.0088).abs() < 1e-6);
}
