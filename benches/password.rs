//! Raw argon2id verifications per second with Ward's default parameters
//! (m = 19 MiB, t = 2, p = 1), on one thread and on every core: the ceiling
//! that `benches/login.sh` compares full password sign-ins against.
//!
//!     cargo bench --bench password [-- SECONDS]      (default 5 s per run)

use std::time::{Duration, Instant};

use ward::authn::password::Passwords;
use ward::config::PasswordParams;

fn rate(passwords: &Passwords, stored: &str, threads: usize, secs: u64) -> f64 {
    let started = Instant::now();
    let until = started + Duration::from_secs(secs);
    let done: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0;
                    while Instant::now() < until {
                        assert!(passwords.verify("bench-password-for-load", Some(stored)));
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    done as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let secs = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5);
    let passwords = Passwords::new(PasswordParams {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    })
    .expect("argon2 parameters");
    let stored = passwords
        .hash("bench-password-for-load")
        .expect("hash the benchmark password");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("argon2id m=19456 KiB t=2 p=1, {secs} s per run, {cores} cores");
    for threads in [1, cores] {
        println!(
            "raw verifications, {threads} thread(s): {:.1}/s",
            rate(&passwords, &stored, threads, secs)
        );
    }
}
