//! The spool's unit tests: claiming, merging, bounds, and races between
//! claimers in threads and processes.

use super::claim::Claim;
use super::*;
use std::sync::{Arc, Barrier};
use std::time::Duration;

pub(crate) use crate::test_support::{temp_dir, TempDir};

/// Claims and reads every leftover, with time to spare.
pub(crate) fn claim_all(dir: &Path, now_ms: u64) -> Claim {
    claim(dir, now_ms, &unhurried(), true)
}

fn unhurried() -> ClaimLimits {
    ClaimLimits {
        time: Duration::from_secs(60),
        ..ClaimLimits::default()
    }
}

/// A wire record with this id and timestamp.
pub(crate) fn line(id: &str, timestamp_ms: u64) -> String {
    format!(
        r#"{{"event":"tool","event_timestamp":{timestamp_ms},"source":"t","properties":{{"tool_name":"x","event_id":"{id}"}}}}"#
    )
}

fn ids(records: &[Leftover]) -> Vec<&str> {
    records
        .iter()
        .map(|record| record.event_id.as_str())
        .collect()
}

/// A leftover file as an ended process leaves it: records, some acked.
fn leftover_file(dir: &Path, ids: &[&str], acked: &[&str]) {
    let mut file = SpoolFile::create(dir).unwrap();
    for id in ids {
        file.append_record(&mut line(id, now_ms())).unwrap();
    }
    file.append_ack(acked.iter().copied()).unwrap();
}

fn spool_files(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| is_spool_name(path))
        .collect()
}

/// Writes `contents` as a spool file of no run's, in `dir`.
fn write_spool(dir: &Path, contents: impl AsRef<[u8]>) {
    fs::write(dir.join(format!("{SPOOL_PREFIX}x{SPOOL_SUFFIX}")), contents).unwrap();
}

#[test]
fn pending_records_of_an_ended_process_are_claimed_once() {
    let dir = temp_dir("claim");
    leftover_file(&dir, &["a", "b", "c"], &["b"]);
    let claim = claim_all(&dir, now_ms());
    assert_eq!(ids(&claim.records), ["a", "c"]);
    assert!(claim.file.is_some());
    assert!(claim.problems.is_empty() && claim.drops.is_empty());
    assert_eq!(
        claim.records[0].line,
        line("a", claim.records[0].timestamp_ms)
    );
    // While this claimer lives, nobody else gets them.
    assert!(claim_all(&dir, now_ms()).records.is_empty());
    let mut file = claim.file.unwrap();
    file.append_ack(["a", "c"]).unwrap();
    drop(file);
    // Everything acknowledged: the next claim finds nothing and tidies.
    let again = claim_all(&dir, now_ms());
    assert!(again.records.is_empty() && again.file.is_none());
    assert!(spool_files(&dir).is_empty());
}

#[test]
fn a_live_file_is_never_claimed() {
    let dir = temp_dir("live");
    let mut live = SpoolFile::create(&dir).unwrap();
    live.append_record(&mut line("mine", now_ms())).unwrap();
    let claim = claim_all(&dir, now_ms());
    assert!(claim.records.is_empty() && claim.problems.is_empty());
    assert!(live.path().exists());
    drop(live);
    assert_eq!(ids(&claim_all(&dir, now_ms()).records), ["mine"]);
}

#[cfg(unix)]
#[test]
fn the_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("mode");
    let nested = dir.join("config");
    let file = SpoolFile::create(&nested).unwrap();
    let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(file.path()), 0o600);
    assert_eq!(mode(&nested), 0o700);
}

#[test]
fn corrupt_and_cut_lines_are_skipped() {
    let dir = temp_dir("corrupt");
    let now = now_ms();
    let mut text = String::new();
    text.push_str(&line("good1", now));
    text.push_str("\nnot json at all\n\u{1}\u{2}\n{\"event\":\"tool\"}\n[1,2]\n\n");
    text.push_str(&line("good2", now));
    text.push('\n');
    let cut = line("cut", now);
    text.push_str(&cut[..cut.len() / 2]);
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(&[b'\n', 0xff, 0xfe, b'\n']);
    write_spool(&dir, bytes);
    let claim = claim_all(&dir, now);
    assert_eq!(ids(&claim.records), ["good1", "good2"]);
    assert_eq!(claim.drops.corrupt, 6);
    assert!(claim.problems.is_empty());
}

#[test]
fn records_older_than_seven_days_are_dropped() {
    let dir = temp_dir("age");
    let now = now_ms();
    let week = u64::try_from(MAX_AGE.as_millis()).unwrap();
    let text = [
        line("old", now - week - 1),
        line("recent", now - week + 60_000),
    ]
    .join("\n");
    write_spool(&dir, text);
    let claim = claim_all(&dir, now);
    assert_eq!(ids(&claim.records), ["recent"]);
    assert_eq!(claim.drops.expired, 1);
}

#[test]
fn the_newest_records_are_kept_within_the_count_limit() {
    let dir = temp_dir("count");
    let now = now_ms();
    let total = MAX_RECORDS + 50;
    let text: Vec<String> = (0..total)
        .map(|n| line(&format!("r{n}"), now - (total - n) as u64))
        .collect();
    write_spool(&dir, text.join("\n"));
    let claim = claim_all(&dir, now);
    assert_eq!(claim.records.len(), MAX_RECORDS);
    assert_eq!(claim.drops.over_limit, 50);
    assert_eq!(claim.records[0].event_id, "r50");
    assert_eq!(
        claim.records[MAX_RECORDS - 1].event_id,
        format!("r{}", total - 1)
    );
}

#[test]
fn the_newest_records_are_kept_within_the_byte_limit() {
    let dir = temp_dir("bytes");
    let now = now_ms();
    // 64 records of about 70 KiB: more than 4 MiB.
    let padding = "p".repeat(70 * 1024);
    let text: Vec<String> = (0..64u64)
        .map(|n| line(&format!("big{n}"), now - 64 + n).replace("\"x\"", &format!("\"{padding}\"")))
        .collect();
    write_spool(&dir, text.join("\n"));
    let claim = claim_all(&dir, now);
    let bytes: usize = claim.records.iter().map(|record| record.line.len()).sum();
    assert!(bytes <= MAX_BYTES);
    assert!(claim.drops.over_limit > 0);
    assert_eq!(claim.records.len() + claim.drops.over_limit, 64);
    assert_eq!(claim.records.last().unwrap().event_id, "big63");
}

#[test]
fn a_huge_file_is_read_from_its_end_only_and_its_head_dropped() {
    let dir = temp_dir("huge");
    let now = now_ms();
    let mut bytes = vec![b'x'; 2 * MAX_BYTES];
    bytes.push(b'\n');
    bytes.extend_from_slice(line("tail", now).as_bytes());
    write_spool(&dir, bytes);
    let claim = claim_all(&dir, now);
    assert_eq!(ids(&claim.records), ["tail"]);
    assert_eq!(claim.drops.over_limit, 1, "the over-long line");
    let left: u64 = spool_files(&dir)
        .iter()
        .map(|path| fs::metadata(path).unwrap().len())
        .sum();
    assert!(left < 1024 * 1024, "trimmed on disk too: {left}");
}

#[cfg(unix)]
#[test]
fn links_directories_and_fifos_are_left_alone() {
    let dir = temp_dir("bad");
    let victim = dir.join("victim");
    let victim_text = line("victim", now_ms());
    fs::write(&victim, &victim_text).unwrap();
    std::os::unix::fs::symlink(
        &victim,
        dir.join(format!("{SPOOL_PREFIX}link{SPOOL_SUFFIX}")),
    )
    .unwrap();
    fs::create_dir(dir.join(format!("{SPOOL_PREFIX}dir{SPOOL_SUFFIX}"))).unwrap();
    let fifo = dir.join(format!("{SPOOL_PREFIX}fifo{SPOOL_SUFFIX}"));
    let fifo_c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo_c.as_ptr(), 0o600) }, 0);
    let mut claim = claim_all(&dir, now_ms());
    assert!(claim.records.is_empty());
    claim.problems.sort_by_key(|problem| format!("{problem:?}"));
    assert_eq!(
        claim.problems,
        [
            SpoolError::NotAFile,
            SpoolError::NotAFile,
            SpoolError::Symlink
        ]
    );
    assert_eq!(fs::read_to_string(&victim).unwrap(), victim_text);
    for problem in &claim.problems {
        let text = problem.to_string();
        assert!(!text.contains(dir.to_str().unwrap()), "{text}");
    }
}

#[test]
fn an_unwritable_config_dir_is_a_typed_error() {
    let dir = temp_dir("unwritable");
    let not_a_dir = dir.join("plain-file");
    fs::write(&not_a_dir, "x").unwrap();
    let error = SpoolFile::create(&not_a_dir).unwrap_err();
    assert!(matches!(error, SpoolError::Unwritable(_)), "{error:?}");
    // Claiming from it finds nothing, and is not an error.
    assert!(claim_all(&not_a_dir, now_ms()).records.is_empty());
}

#[test]
fn opting_out_deletes_every_spool_file() {
    let dir = temp_dir("delete");
    leftover_file(&dir, &["a"], &[]);
    let live = SpoolFile::create(&dir).unwrap();
    fs::write(dir.join("user-uuid"), "keep me").unwrap();
    let (removed, problems) = delete_all(&dir);
    assert_eq!((removed, problems), (2, vec![]));
    assert!(spool_files(&dir).is_empty());
    assert!(!live.path().exists());
    assert!(dir.join("user-uuid").exists());
    assert!(claim_all(&dir, now_ms()).records.is_empty());
}

/// A dir with `files` leftover files of `per_file` records each (`f3r1`:
/// the second of the fourth file), and all their ids.
pub(crate) fn leftovers(name: &str, files: usize, per_file: usize) -> (TempDir, Vec<String>) {
    let dir = temp_dir(name);
    let mut all = Vec::new();
    for file in 0..files {
        let ids: Vec<String> = (0..per_file).map(|n| format!("f{file}r{n}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        leftover_file(&dir, &refs, &[]);
        all.extend(ids);
    }
    (dir, all)
}

#[test]
fn concurrent_claimers_in_threads_get_disjoint_sets() {
    let (dir, mut all) = leftovers("threads", 20, 5);
    let barrier = Arc::new(Barrier::new(10));
    let claimers: Vec<_> = (0..10)
        .map(|_| {
            let dir = dir.0.clone();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                let claim = claim_all(&dir, now_ms());
                let got: Vec<String> = claim
                    .records
                    .iter()
                    .map(|record| record.event_id.clone())
                    .collect();
                // Hold the claimed files until every thread has claimed.
                barrier.wait();
                got
            })
        })
        .collect();
    let mut got: Vec<String> = claimers
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    got.sort();
    all.sort();
    assert_eq!(got, all, "each record claimed exactly once");
}

const CHILD_DIR: &str = "TELEMETRY_SPOOL_TEST_CHILD_DIR";

/// Run by `concurrent_claimers_in_processes_get_disjoint_sets` in
/// child processes: claims, writes what it got, removes the claimed
/// files (as after delivery), exits.
#[test]
#[ignore = "a child process of another test"]
#[allow(clippy::disallowed_methods)] // the variable its parent test sets
fn child_claims_and_reports() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let claim = claim_all(&dir, now_ms());
    let got: Vec<&str> = ids(&claim.records);
    let out = dir.join(format!("out-{}", std::process::id()));
    fs::write(out, got.join("\n")).unwrap();
    if let Some(file) = claim.file {
        file.remove().unwrap();
    }
}

#[test]
fn concurrent_claimers_in_processes_get_disjoint_sets() {
    let (dir, mut all) = leftovers("processes", 30, 3);
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..10)
        .map(|_| {
            std::process::Command::new(&exe)
                .args([
                    "--exact",
                    "delivery::spool::tests::child_claims_and_reports",
                    "--ignored",
                    "--test-threads=1",
                ])
                .env(CHILD_DIR, &dir.0)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let mut got = Vec::new();
    let mut reports = 0;
    for entry in fs::read_dir(&dir.0).unwrap() {
        let path = entry.unwrap().path();
        if file_name(&path).is_some_and(|name| name.starts_with("out-")) {
            reports += 1;
            let text = fs::read_to_string(&path).unwrap();
            got.extend(text.lines().filter(|l| !l.is_empty()).map(str::to_owned));
        }
    }
    assert_eq!(reports, 10);
    got.sort();
    all.sort();
    assert_eq!(got, all, "each record claimed by exactly one process");
    assert!(spool_files(&dir).is_empty());
}

/// A leftover file under a name of the given order, as a run that ended
/// at that time leaves it.
fn leftover_at(dir: &Path, order: u64, ids: &[String]) {
    let text: String = ids.iter().map(|id| line(id, now_ms()) + "\n").collect();
    fs::write(spool_name(dir, order), text).unwrap();
}

#[test]
fn many_leftover_files_are_merged_into_one_in_write_order() {
    let dir = temp_dir("merge");
    let mut all = Vec::new();
    for run in 0..300u64 {
        let ids: Vec<String> = (0..4).map(|n| format!("run{run:04}-{n}")).collect();
        leftover_at(&dir, 1_000 + run, &ids);
        all.extend(ids);
    }
    // Not read: a process that cannot send merges only.
    let merged = claim(&dir, now_ms(), &unhurried(), false);
    assert_eq!((merged.merged, merged.removed), (300, 0));
    assert!(merged.records.is_empty() && merged.problems.is_empty());
    let file = merged.file.expect("one merged file");
    assert_eq!(spool_files(&dir), [file.path().to_owned()]);
    assert_eq!(order_of(file.path()), 1_000, "it keeps the oldest's order");
    drop(file);
    // The next claim reads them, in write order.
    let claimed = claim_all(&dir, now_ms());
    assert_eq!(ids(&claimed.records), all);
}

/// A dir with the leftovers of 20 runs of 10 records each (`run07-3`:
/// the fourth of the eighth run), and the size of one of their files.
fn twenty_runs_of_ten(name: &str) -> (TempDir, u64) {
    let dir = temp_dir(name);
    for run in 0..20u64 {
        let ids: Vec<String> = (0..10).map(|n| format!("run{run:02}-{n}")).collect();
        leftover_at(&dir, 1_000 + run, &ids);
    }
    let size = fs::metadata(&spool_files(&dir)[0]).unwrap().len();
    (dir, size)
}

#[test]
fn files_beyond_the_bound_are_dropped_oldest_first_and_counted() {
    let (dir, size) = twenty_runs_of_ten("bound-files");
    // Room for five files by size, and for 42 records.
    let limits = ClaimLimits {
        records: 42,
        bytes: 5 * size,
        time: Duration::from_secs(60),
    };
    let claimed = claim(&dir, now_ms(), &limits, true);
    assert_eq!(claimed.removed, 15, "the 15 oldest files, whole");
    assert_eq!(claimed.merged, 5);
    // 150 in the dropped files, then 8 more to keep 42 of the 50.
    assert_eq!(claimed.drops.over_limit, 158);
    let got = ids(&claimed.records);
    assert_eq!(got.len(), 42);
    assert_eq!(got[0], "run15-8");
    assert_eq!(got[41], "run19-9");
    assert_eq!(spool_files(&dir).len(), 1);
}

#[test]
fn the_bound_drops_by_write_order_not_by_stamp() {
    let dir = temp_dir("write-order");
    let now = now_ms();
    let hour = 60 * 60 * 1000;
    // Written first, stamped an hour ahead (a clock that ran ahead).
    let text = [
        line("ahead", now + hour),
        line("second", now - 2),
        line("third", now - 1),
    ]
    .join("\n");
    fs::write(spool_name(&dir, 1), text).unwrap();
    let limits = ClaimLimits {
        records: 2,
        ..unhurried()
    };
    let claimed = claim(&dir, now, &limits, true);
    assert_eq!(ids(&claimed.records), ["second", "third"]);
    assert_eq!(claimed.drops.over_limit, 1);
}

#[test]
fn records_stamped_more_than_a_day_ahead_are_invalid() {
    let dir = temp_dir("ahead");
    let now = now_ms();
    let day = u64::try_from(MAX_AHEAD.as_millis()).unwrap();
    let text = [line("far", now + day + 60_000), line("near", now + 60_000)].join("\n");
    fs::write(spool_name(&dir, 1), text).unwrap();
    let claimed = claim_all(&dir, now);
    assert_eq!(ids(&claimed.records), ["near"]);
    assert_eq!(claimed.drops.invalid_timestamp, 1);
    let counts = DropCounts::default();
    claimed.drops.count_into(&counts);
    assert_eq!(counts.get(DropReason::InvalidTimestamp), 1);
}

#[cfg(unix)]
#[test]
fn stale_temporaries_are_removed_and_live_ones_kept() {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = temp_dir("temps");
    // A killed compaction's: written, no one holds it.
    let stale = temp_name(&dir);
    fs::write(&stale, line("half", now_ms())).unwrap();
    // One being created right now: empty and young.
    let young = temp_name(&dir);
    fs::write(&young, "").unwrap();
    // One a live compaction holds.
    let held_path = temp_name(&dir);
    let held = fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .open(&held_path)
        .unwrap();
    assert!(crate::files::try_lock(&held));
    fs::write(&held_path, "data").unwrap();
    let claimed = claim_all(&dir, now_ms());
    assert_eq!(claimed.temps_removed, 1);
    assert!(!stale.exists());
    assert!(young.exists() && held_path.exists());
    drop(held);
    assert_eq!(claim_all(&dir, now_ms()).temps_removed, 1);
    assert!(!held_path.exists());
}

#[test]
fn a_claim_out_of_time_leaves_the_rest_for_a_later_run() {
    let dir = temp_dir("no-time");
    for run in 0..50u64 {
        leftover_at(&dir, 1_000 + run, &[format!("r{run}")]);
    }
    let limits = ClaimLimits {
        time: Duration::ZERO,
        ..ClaimLimits::default()
    };
    let claimed = claim(&dir, now_ms(), &limits, true);
    assert!(claimed.unfinished);
    assert_eq!(
        claimed.drops.over_limit, 0,
        "nothing dropped for lack of time"
    );
    drop(claimed);
    let later = claim_all(&dir, now_ms());
    assert_eq!(later.records.len(), 50);
}

#[test]
fn the_file_the_bound_cuts_through_keeps_its_newest_lines() {
    let (dir, size) = twenty_runs_of_ten("bound-cut");
    let limits = ClaimLimits {
        bytes: 5 * size + size / 2,
        ..unhurried()
    };
    let claimed = claim(&dir, now_ms(), &limits, true);
    assert_eq!((claimed.merged, claimed.removed), (6, 14));
    assert_eq!(claimed.drops.over_limit, 145);
    let got = ids(&claimed.records);
    assert_eq!(got.len(), 55);
    assert_eq!((got[0], got[54]), ("run14-5", "run19-9"));
}

#[test]
fn each_spool_error_says_what_happened_and_what_follows() {
    use std::io::ErrorKind::{Other, PermissionDenied, StorageFull};
    let cases = [
        (SpoolError::Symlink, "a spool file is a symbolic link; it was left alone"),
        (SpoolError::NotAFile, "a spool file is not a regular file (a directory or FIFO?); it was left alone"),
        (SpoolError::NotOurs, "a spool file belongs to another user; it was left alone"),
        (SpoolError::Unwritable(PermissionDenied), "the spool cannot be written (PermissionDenied); records are kept in memory only"),
        (SpoolError::Shortage(StorageFull), "no descriptor or disk space left for the spool (StorageFull); records are kept in memory only"),
        (SpoolError::FileSizeLimit, "the spool reached the process's file-size limit (RLIMIT_FSIZE); what would not fit is dropped"),
        (SpoolError::Deleted, "the spool file was deleted by a run that turned telemetry off; nothing more is sent"),
        (SpoolError::Io(Other), "a spool file could not be used (Other)"),
    ];
    for (error, said) in cases {
        assert_eq!(error.to_string(), said);
    }
}
