//! Bad input in the config dir: a file where the dir should be, an
//! unwritable dir, bad id and marker files.

use super::*;

/// The id used on the wire, checked to be a valid UUID.
fn sent_uuid(collector: &Collector) -> String {
    let record = wire_records(collector).pop().expect("a record");
    let id = record["properties"]["user_uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(is_uuid(&id), "{id}");
    id
}

/// A config dir that cannot be used: telemetry stays on with an id for this
/// process only when the app shows no notice, and is off when it does (the
/// notice could not be remembered: it is not shown, nothing is sent, and
/// `status` says so, naming the dir).
fn unusable_config_dir(dir: &Path) {
    let collector = Collector::start().unwrap();
    let run = run_with(&collector, dir);
    run.telemetry.track_command("x", Vec::<String>::new());
    sent_uuid(&collector);
    assert!(
        run.debug
            .text()
            .contains("the anonymous id lasts for this process only"),
        "{}",
        run.debug.text()
    );

    let run = build(Options {
        endpoint: Some(&collector.url()),
        config_dir: Some(dir),
        notice: true,
        ..Options::default()
    });
    run.telemetry.track_command("x", Vec::<String>::new());
    assert!(!run.telemetry.is_enabled());
    assert_eq!(run.notice.text(), "", "no notice that cannot be remembered");
    assert!(
        run.debug
            .text()
            .contains("telemetry is off: no usable config dir"),
        "{}",
        run.debug.text()
    );
    let status = run.telemetry.status();
    assert!(!status.enabled);
    assert_eq!(status.decided_by, Rule::NoConfigDir);
    assert!(
        status.explanation.contains(&*dir.to_string_lossy()),
        "{}",
        status.explanation
    );
    assert_eq!(
        collector.requests().len(),
        1,
        "nothing sent by the second run"
    );
}

#[test]
fn a_config_dir_that_is_a_regular_file_is_left_alone_and_the_id_lasts_for_the_process() {
    let (_root, file) = file_as_config_dir("dir-is-file");
    unusable_config_dir(&file);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), NOT_A_DIR);
}

#[test]
fn an_unwritable_config_dir_keeps_the_id_for_the_process_and_is_off_while_the_notice_cannot_be_kept(
) {
    // The tests may run as root, for whom a chmod'ed directory stays
    // writable; so the dirs used here are unwritable for everyone: one
    // whose parent is a regular file (ENOTDIR), and one under /proc, where
    // nobody can create a directory.
    let root = TempDir::new("unwritable");
    std::fs::write(root.join("file"), "x").unwrap();
    unusable_config_dir(&root.join("file").join("config"));
    let in_proc = Path::new("/proc/telemetry-reliability-test/config");
    if Path::new("/proc/self").exists() {
        unusable_config_dir(in_proc);
        assert!(!in_proc.exists());
    }
}

#[test]
fn bad_user_uuid_files_are_replaced() {
    let collector = Collector::start().unwrap();
    let ten_mb = vec![b'7'; 10 << 20];
    let contents: [(&str, &[u8]); 4] = [
        ("empty", b""),
        ("binary", &[0x00, 0xff, 0x13, 0x37, 0x80, b'\n']),
        ("10 MB", &ten_mb),
        ("almost", b"0123456789ab-4def-8123-456789abcdef00"),
    ];
    for (what, bytes) in contents {
        let dir = TempDir::new("uuid");
        let file = dir.join(USER_UUID_FILE);
        std::fs::write(&file, bytes).unwrap();
        let run = run_with(&collector, dir.path());
        run.telemetry.track_command("x", Vec::<String>::new());
        let id = sent_uuid(&collector);
        assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), id, "{what}");
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{what}");
    }
}

#[test]
fn a_marker_that_cannot_be_read_still_counts_as_shown() {
    // Only the marker's presence (and age) is checked, never its contents:
    // an unreadable marker (mode 000; root could still read it, which is why
    // the other case exists) or a directory in its place, made by an
    // earlier process (dated an hour back), mean the notice was shown.
    let collector = Collector::start().unwrap();
    let an_hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    type Plant = fn(&Path, std::time::SystemTime);
    let plant: [(&str, Plant); 2] = [
        ("mode 000", |path, when| {
            std::fs::write(path, "").unwrap();
            std::fs::File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(when)
                .unwrap();
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o000)).unwrap();
        }),
        ("a directory", |path, when| {
            std::fs::create_dir(path).unwrap();
            std::fs::File::open(path)
                .unwrap()
                .set_modified(when)
                .unwrap();
        }),
    ];
    for (what, plant) in plant {
        let dir = TempDir::new("marker");
        plant(&dir.join(NOTICE_MARKER_FILE), an_hour_ago);
        let run = build(Options {
            endpoint: Some(&collector.url()),
            config_dir: Some(dir.path()),
            notice: true,
            ..Options::default()
        });
        let before = collector.records().len();
        run.telemetry.track_command("x", Vec::<String>::new());
        assert_eq!(run.notice.text(), "", "{what}");
        assert_eq!(collector.records().len(), before + 1, "{what}");
    }
}
