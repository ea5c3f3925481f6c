//! Hello, world! with one tracked command: the smallest adopter of the
//! toolkit, built in several variants (see Cargo.toml's features) to
//! measure what each feature set adds.

#[cfg(feature = "own-sink")]
use telemetry_core::tracked_command;

#[cfg_attr(feature = "own-sink", tracked_command)]
fn hello() -> std::io::Result<()> {
    println!("Hello, world!");
    Ok(())
}

/// A sink of the app's own: here it writes each record's JSON to stderr
/// (an app would hand it to the HTTP client it already has).
#[cfg(all(feature = "own-sink", not(feature = "default-features")))]
struct OwnSink;

#[cfg(all(feature = "own-sink", not(feature = "default-features")))]
impl telemetry_core::Sink for OwnSink {
    fn send(&self, records: &[telemetry_core::Record]) -> Result<(), telemetry_core::SendError> {
        for record in records {
            eprintln!("{}", record.to_json());
        }
        Ok(())
    }
}

#[cfg(not(feature = "cli-baseline"))]
fn main() -> std::io::Result<()> {
    #[cfg(feature = "own-sink")]
    {
        let builder = telemetry_core::Telemetry::builder("hello", "0.1.0");
        #[cfg(feature = "default-features")]
        let builder = builder.endpoint("https://telemetry.example.com/v1/events");
        #[cfg(not(feature = "default-features"))]
        let builder = builder.sink(OwnSink);
        telemetry_core::set_global(builder.build());
    }
    hello()
}

#[cfg(feature = "cli-baseline")]
fn main() -> anyhow::Result<()> {
    let command = clap::Command::new("hello").arg(clap::Arg::new("name").long("name"));
    #[cfg(feature = "clap-anyhow")]
    telemetry_core::set_global(
        telemetry_core::Telemetry::builder("hello", "0.1.0")
            .endpoint("https://telemetry.example.com/v1/events")
            .clap_flags(&command)
            .build(),
    );
    let matches = command.get_matches();
    if let Some(name) = matches.get_one::<String>("name") {
        println!("Hello, {name}!");
        return Ok(());
    }
    Ok(hello()?)
}
