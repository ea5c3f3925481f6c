#!/usr/bin/env bash
# What telemetry-core adds to a hello-world CLI: for each variant, a clean
# release build (stripped) in its own target dir; prints the binary size,
# the build's CPU time (user+sys) and wall time, and the crate count.
# Run it from a copy outside the repository (docs/performance.md):
#   cp -r docs/adopter-cost /tmp/hello-telemetry
#   sed -i "s|REPO|$PWD|" /tmp/hello-telemetry/Cargo.toml
#   /tmp/hello-telemetry/measure.sh cli-baseline clap-anyhow
set -euo pipefail
cd "$(dirname "$0")"
cargo generate-lockfile -q
cargo fetch -q
printf '%-14s %10s %8s %8s %7s\n' variant bytes cpu_s wall_s crates
for variant in baseline own-sink default-features "$@"; do
    features=()
    [ "$variant" != baseline ] && features=(--features "$variant")
    target="target-$variant"
    rm -rf "$target"
    /usr/bin/time -f '%U %S %e' -o "time-$variant.txt" \
        cargo build -q --release --offline --target-dir "$target" "${features[@]}"
    read -r user sys wall < "time-$variant.txt"
    bytes=$(stat -c %s "$target/release/hello-telemetry")
    crates=$(cargo tree -q -e normal --prefix none --offline "${features[@]}" \
        | sed 's/ (\*)//; s/ (proc-macro)//' | sort -u | wc -l)
    printf '%-14s %10s %8.1f %8.1f %7s\n' "$variant" "$bytes" \
        "$(echo "$user + $sys" | bc)" "$wall" "$crates"
done
