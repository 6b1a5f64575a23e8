//! What the machine is, and how much memory the process holds (Linux `/proc`).

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// CPUs this process may use (what `nproc` prints).
    pub nproc: usize,
    pub cpu_model: String,
    pub memory_total_mib: Option<u64>,
    pub kernel: Option<String>,
}

impl Machine {
    pub fn read() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|line| {
                let (key, value) = line.split_once(':')?;
                (key.trim() == "model name").then(|| value.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Machine {
            nproc: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            cpu_model,
            memory_total_mib: kib_field(&meminfo, "MemTotal").map(|kib| kib / 1024),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .ok()
                .map(|s| s.trim().to_owned()),
        }
    }
}

/// A `Name:   1234 kB` field of a `/proc` status file, in KiB.
fn kib_field(text: &str, name: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?.strip_prefix(':')?;
        rest.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

/// The process's resident memory now (`VmRSS`) and its peak (`VmHWM`), in KiB.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Memory {
    pub rss_kib: u64,
    pub peak_kib: u64,
}

pub fn memory() -> Option<Memory> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    Some(Memory {
        rss_kib: kib_field(&status, "VmRSS")?,
        peak_kib: kib_field(&status, "VmHWM")?,
    })
}

/// Resets the peak (`VmHWM`) to the current RSS, so the next reading is the peak of what
/// follows. Returns false where the kernel does not allow it.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// CPU time (user + system) this process has used, in seconds. Linux reports it in
/// `USER_HZ` ticks, which are 1/100 s on every Linux the user-space ABI knows.
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    cpu_ticks(&stat).map(|ticks| ticks as f64 / 100.0)
}

fn cpu_ticks(stat: &str) -> Option<u64> {
    // Fields after the command name (which may hold spaces) start with field 3, the state;
    // utime and stime are fields 14 and 15.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// CPU time, in seconds, that the live threads whose name starts with `prefix` have used
/// (`/proc/self/task/*/schedstat`, nanoseconds). Threads that have ended are not counted, so
/// name long-lived threads, such as a runtime's workers.
pub fn thread_cpu_seconds(prefix: &str) -> Option<f64> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let Ok(task) = task else { continue };
        let path = task.path();
        let Ok(name) = std::fs::read_to_string(path.join("comm")) else {
            continue;
        };
        if !name.starts_with(prefix) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(path.join("schedstat")) else {
            continue;
        };
        total += stat
            .split_whitespace()
            .next()
            .and_then(|ns| ns.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Some(total as f64 / 1e9)
}

/// The 1-minute load average: how busy the shared machine is.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kib_fields() {
        let text = "Name:\tx\nVmHWM:\t   12345 kB\nVmRSS:\t  678 kB\n";
        assert_eq!(kib_field(text, "VmHWM"), Some(12345));
        assert_eq!(kib_field(text, "VmRSS"), Some(678));
        assert_eq!(kib_field(text, "VmSwap"), None);
    }

    #[test]
    fn reads_cpu_ticks() {
        let stat = "123 (a b) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0";
        assert_eq!(cpu_ticks(stat), Some(300));
    }
}
