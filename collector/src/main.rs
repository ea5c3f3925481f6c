//! The `telemetry-collector` binary: its subcommands and their flags;
//! nothing else.

use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use telemetry_collector::{day, report, settings, signal, Settings, Store};

const USAGE: &str = "\
usage:
  telemetry-collector serve [--db PATH] [--listen ADDR] [--retention-days N]
                            [--ingest-keys FILE] [--token-file FILE] [--forward-otlp URL]
                            [--request-timeout SECONDS]
  telemetry-collector export [--db PATH] [--app A] [--from DAY] [--to DAY]
  telemetry-collector forget --db PATH --install UUID
  telemetry-collector report [--db PATH] [--app A] [--from DAY] [--to DAY] [--json]

serve    accepts records (POST /v1/events, POST /v1/logs) into the database
         (default telemetry.db, created if absent) and answers the views at
         GET /api/v1/VIEW; listens on 127.0.0.1:4318 by default.
export   prints the stored records, one JSON object a line (DAY: YYYY-MM-DD).
forget   erases every record of one install.
report   prints every view of one app (default: the 30 days ending today) as
         tables and sparklines, or with --json as the API's answers; opens the
         database read-only. The dashboard is GET / on serve.";

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let command = args.next().and_then(|arg| arg.into_string().ok());
    let rest: Vec<OsString> = args.collect();
    let result = match command.as_deref() {
        Some("serve") => serve(&rest),
        Some("export") => export(&rest),
        Some("forget") => forget(&rest),
        Some("report") => return report(&rest),
        Some("help" | "--help" | "-h") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command {other:?}\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("telemetry-collector: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `--name value` or `--name=value` pairs, checked against the allowed names.
fn flags(args: &[OsString], allowed: &[&str]) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let arg = arg
            .to_str()
            .ok_or_else(|| "an argument is not valid UTF-8".to_owned())?;
        let (name, value) = match arg.split_once('=') {
            Some((name, value)) => (name.to_owned(), value.to_owned()),
            None => {
                let value = args
                    .next()
                    .and_then(|value| value.to_str())
                    .ok_or_else(|| format!("{arg} needs a value"))?;
                (arg.to_owned(), value.to_owned())
            }
        };
        if !allowed.contains(&name.as_str()) {
            return Err(format!(
                "unknown flag {name:?} (this command takes {})",
                allowed.join(", ")
            ));
        }
        pairs.push((name, value));
    }
    Ok(pairs)
}

fn serve(args: &[OsString]) -> Result<(), String> {
    let settings = Settings::from_flags(&flags(args, &settings::FLAGS)?)?;
    signal::install();
    telemetry_collector::serve(&settings, &signal::STOP, |address| {
        println!("listening on http://{address}");
        let _ = io::stdout().flush();
    })
}

fn export(args: &[OsString]) -> Result<(), String> {
    let (mut db, mut app, mut from, mut to) =
        (PathBuf::from("telemetry.db"), None, i64::MIN, i64::MAX);
    for (name, value) in flags(args, &["--db", "--app", "--from", "--to"])? {
        let parse_day = |value: &str| {
            day::parse(value).ok_or_else(|| format!("{name} {value:?}: give a day as YYYY-MM-DD"))
        };
        match name.as_str() {
            "--db" => db = PathBuf::from(value),
            "--app" => app = Some(value),
            "--from" => from = parse_day(&value)?,
            _ => to = parse_day(&value)?,
        }
    }
    let store = Store::open(&db, false).map_err(|error| error.to_string())?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = store.export(app.as_deref(), from, to, |line| {
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")
    });
    match result.and_then(|()| {
        out.flush()
            .map_err(|error| telemetry_collector::store::StoreError::Sql(error.to_string()))
    }) {
        Ok(()) => Ok(()),
        // A closed pipe (`| head`) ends the export quietly.
        Err(error) if error.to_string().contains("Broken pipe") => Ok(()),
        Err(error) => Err(error.to_string()),
    }
}

fn report(args: &[OsString]) -> ExitCode {
    let mut request = report::Request {
        db: PathBuf::from(telemetry_collector::settings::DEFAULT_DB),
        app: None,
        from: None,
        to: None,
        json: false,
    };
    let mut rest = Vec::new();
    for arg in args {
        if arg == "--json" {
            request.json = true;
        } else {
            rest.push(arg.clone());
        }
    }
    let parsed = flags(&rest, &["--db", "--app", "--from", "--to"]).map(|pairs| {
        for (name, value) in pairs {
            match name.as_str() {
                "--db" => request.db = PathBuf::from(value),
                "--app" => request.app = Some(value),
                "--from" => request.from = Some(value),
                _ => request.to = Some(value),
            }
        }
    });
    if let Err(message) = parsed {
        eprintln!("telemetry-collector: {message}\n\n{USAGE}");
        return ExitCode::FAILURE;
    }
    let no_color = std::env::var_os("NO_COLOR");
    let colour = report::use_colour(io::stdout().is_terminal(), no_color.as_deref());
    match report::run(&request, day::today(), colour) {
        Ok(text) => {
            let mut stdout = io::stdout().lock();
            // A closed pipe (`| head`) ends the report quietly.
            let _ = stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush());
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("telemetry-collector: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}

fn forget(args: &[OsString]) -> Result<(), String> {
    let (mut db, mut install) = (None, None);
    for (name, value) in flags(args, &["--db", "--install"])? {
        match name.as_str() {
            "--db" => db = Some(PathBuf::from(value)),
            _ => install = Some(value),
        }
    }
    let db = db.ok_or("forget needs --db PATH")?;
    let install = install.ok_or("forget needs --install UUID")?;
    let store = Store::open(&db, false).map_err(|error| error.to_string())?;
    let erased = store
        .forget(&install, None)
        .map_err(|error| error.to_string())?;
    println!("erased {erased} record(s) of install {install}");
    Ok(())
}
