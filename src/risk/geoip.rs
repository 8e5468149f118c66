//! Where an address is, roughly, from a GeoIP CSV file: the layout of
//! MaxMind's GeoLite2-City-Blocks-IPv4/IPv6 files (a header row with at least
//! `network`, `latitude` and `longitude`; other columns are ignored).
//!
//! The file is read once into sorted, non-overlapping address ranges, so a
//! lookup is one binary search and needs no locking.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::path::Path;

use ipnet::{IpNet, Ipv4Net};

/// A position on the Earth, in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoPoint {
    pub latitude: f64,
    pub longitude: f64,
}

/// The mean Earth radius (IUGG), in kilometres.
const EARTH_RADIUS_KM: f64 = 6371.0088;

impl GeoPoint {
    /// The great-circle distance (haversine formula). Treating the Earth as a
    /// sphere errs by under 0.5 %, far below GeoIP's own error.
    pub fn distance_km(&self, other: &GeoPoint) -> f64 {
        let (lat1, lat2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let dlat = lat2 - lat1;
        let dlon = (other.longitude - self.longitude).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
        // min(1.0): rounding can push `a` a hair above 1 for antipodal points.
        2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
    }
}

/// One inclusive address range and where it is.
type Range<A> = (A, A, GeoPoint);

/// A loaded GeoIP database.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GeoDb {
    v4: Vec<Range<u32>>,
    v6: Vec<Range<u128>>,
}

impl GeoDb {
    /// Read a GeoIP CSV file. The file is streamed line by line: the IPv4
    /// City blocks file alone is a few hundred megabytes.
    pub fn load(path: &Path) -> Result<GeoDb, String> {
        let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::from_reader(BufReader::new(file)).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parse CSV text (tests, and small files embedded elsewhere).
    pub fn from_csv_str(text: &str) -> Result<GeoDb, String> {
        Self::from_reader(text.as_bytes())
    }

    fn from_reader(reader: impl BufRead) -> Result<GeoDb, String> {
        let mut columns: Option<Columns> = None;
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for (index, line) in reader.lines().enumerate() {
            let number = index + 1;
            let line = line.map_err(|e| format!("line {number}: {e}"))?;
            // A byte-order mark is common in CSV files saved by spreadsheets.
            let line = line.strip_prefix('\u{feff}').unwrap_or(&line);
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split(',').map(unquote).collect();
            let Some(cols) = &columns else {
                columns = Some(Columns::find(&fields).map_err(|e| format!("line {number}: {e}"))?);
                continue;
            };
            if let Some((net, point)) = cols
                .row(&fields)
                .map_err(|e| format!("line {number}: {e}"))?
            {
                match net {
                    IpNet::V4(n) => v4.push((n.network().into(), n.broadcast().into(), point)),
                    IpNet::V6(n) => v6.push((n.network().into(), n.broadcast().into(), point)),
                }
            }
        }
        if columns.is_none() {
            return Err("no header row".to_owned());
        }
        Ok(GeoDb {
            v4: flatten(v4),
            v6: flatten(v6),
        })
    }

    /// Where `ip` is, if the database knows. An IPv4-mapped IPv6 address is
    /// looked up as the IPv4 address it carries.
    pub fn lookup(&self, ip: IpAddr) -> Option<GeoPoint> {
        match ip.to_canonical() {
            IpAddr::V4(v4) => find(&self.v4, u32::from(v4)),
            IpAddr::V6(v6) => find(&self.v6, u128::from(v6)),
        }
    }

    /// How many address ranges were loaded (IPv4, IPv6), for a start-up log line.
    pub fn range_counts(&self) -> (usize, usize) {
        (self.v4.len(), self.v6.len())
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }
}

/// Strip surrounding spaces and one pair of double quotes. Embedded commas
/// are not supported: the columns read here (network, coordinates) never
/// contain them, and the other columns are only split, never read.
fn unquote(field: &str) -> &str {
    let f = field.trim();
    f.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(f)
}

/// Positions of the columns that matter, found by name in the header row.
struct Columns {
    network: usize,
    latitude: usize,
    longitude: usize,
}

impl Columns {
    fn find(header: &[&str]) -> Result<Columns, String> {
        let position = |name: &str| {
            header
                .iter()
                .position(|h| h.eq_ignore_ascii_case(name))
                .ok_or_else(|| format!("the header has no {name:?} column"))
        };
        Ok(Columns {
            network: position("network")?,
            latitude: position("latitude")?,
            longitude: position("longitude")?,
        })
    }

    /// One data row: `None` when the row has no coordinates (GeoLite2 lists
    /// some networks with only a country, or nothing).
    fn row(&self, fields: &[&str]) -> Result<Option<(IpNet, GeoPoint)>, String> {
        let field = |i: usize| {
            fields.get(i).copied().ok_or_else(|| {
                format!("expected at least {} fields, found {}", i + 1, fields.len())
            })
        };
        let (network, lat, lon) = (
            field(self.network)?,
            field(self.latitude)?,
            field(self.longitude)?,
        );
        if lat.is_empty() || lon.is_empty() {
            return Ok(None);
        }
        let net = parse_network(network)?;
        let latitude: f64 = lat
            .parse()
            .map_err(|_| format!("latitude {lat:?} is not a number"))?;
        let longitude: f64 = lon
            .parse()
            .map_err(|_| format!("longitude {lon:?} is not a number"))?;
        // `contains` is false for NaN too, so "NaN" is refused here.
        if !(-90.0..=90.0).contains(&latitude) {
            return Err(format!("latitude {latitude} is outside -90..90"));
        }
        if !(-180.0..=180.0).contains(&longitude) {
            return Err(format!("longitude {longitude} is outside -180..180"));
        }
        Ok(Some((
            net,
            GeoPoint {
                latitude,
                longitude,
            },
        )))
    }
}

/// A CIDR network; one written as IPv4-mapped IPv6 (`::ffff:192.0.2.0/120`)
/// is kept as the IPv4 network it covers, because lookups map such
/// addresses to IPv4 first.
fn parse_network(s: &str) -> Result<IpNet, String> {
    let net: IpNet = s
        .parse()
        .map_err(|_| format!("network {s:?} is not a CIDR network"))?;
    if let IpNet::V6(n) = net
        && n.prefix_len() >= 96
        && let Some(v4) = n.network().to_ipv4_mapped()
    {
        let v4 =
            Ipv4Net::new(v4, n.prefix_len() - 96).expect("96..=128 minus 96 is a valid length");
        return Ok(IpNet::V4(v4));
    }
    Ok(net.trunc())
}

/// An address type the ranges are built from.
trait Address: Copy + Ord {
    fn next(self) -> Option<Self>;
    fn prev(self) -> Option<Self>;
}

impl Address for u32 {
    fn next(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn prev(self) -> Option<Self> {
        self.checked_sub(1)
    }
}

impl Address for u128 {
    fn next(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn prev(self) -> Option<Self> {
        self.checked_sub(1)
    }
}

/// Turn CIDR ranges into sorted, non-overlapping ones. CIDR networks are
/// either disjoint or nested; where nested, the inner (more specific) one
/// wins for its addresses and the outer one keeps the rest. Two identical
/// networks: the later row wins.
fn flatten<A: Address>(mut ranges: Vec<Range<A>>) -> Vec<Range<A>> {
    // Outer before inner at the same start; the sort is stable, so identical
    // networks keep file order and the later one ends up on top of the stack.
    ranges.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut out: Vec<Range<A>> = Vec::with_capacity(ranges.len());
    // Ranges that contain the current position, innermost last.
    let mut open: Vec<Range<A>> = Vec::new();
    // The first address not yet assigned; `None` once the address space is done.
    let mut cursor: Option<A> = None;

    // Assign `cursor..=to` to `point` and move the cursor past it; nothing
    // when the cursor is already beyond `to`.
    fn emit<A: Address>(out: &mut Vec<Range<A>>, cursor: &mut Option<A>, to: A, point: GeoPoint) {
        if let Some(from) = *cursor
            && from <= to
        {
            out.push((from, to, point));
            *cursor = to.next();
        }
    }

    for range in ranges {
        while let Some(&top) = open.last() {
            if top.1 >= range.0 {
                break;
            }
            open.pop();
            emit(&mut out, &mut cursor, top.1, top.2);
        }
        if let Some(&top) = open.last()
            && let Some(before) = range.0.prev()
        {
            emit(&mut out, &mut cursor, before, top.2);
        }
        cursor = Some(range.0);
        open.push(range);
    }
    while let Some(top) = open.pop() {
        emit(&mut out, &mut cursor, top.1, top.2);
    }
    out
}

fn find<A: Address>(ranges: &[Range<A>], ip: A) -> Option<GeoPoint> {
    let i = ranges.partition_point(|r| r.0 <= ip);
    let r = ranges.get(i.checked_sub(1)?)?;
    (ip <= r.1).then_some(r.2)
}
