//! The endpoint rule: an `http` or `https` URL with a host and no
//! credentials. Checked without building a client, so that the on/off
//! decision and the sink apply the same rule.

use super::InvalidSetting;
use reqwest::Url;

/// The endpoint as a URL, or why it cannot be used.
pub(crate) fn parse_endpoint(endpoint: &str) -> Result<Url, InvalidSetting> {
    let endpoint = endpoint.trim();
    if endpoint.is_empty() {
        return Err(InvalidSetting("the endpoint is empty".into()));
    }
    let url = Url::parse(endpoint).map_err(|_| {
        InvalidSetting(
            "the endpoint is not a URL (expected http://host/path or https://host/path)".into(),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(InvalidSetting(
            "the endpoint's scheme is not http or https".into(),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(InvalidSetting("the endpoint has no host".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // reqwest would turn them into an `Authorization: Basic` header.
        return Err(InvalidSetting(
            "the endpoint has a user name or password in it; credentials in the URL are never sent (give the key with api_key)".into(),
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_checked() {
        for bad in [
            "",
            "not a url",
            "ftp://x",
            "http://",
            "mailto:a@b",
            "https://u:p@h/",
        ] {
            let error = parse_endpoint(bad).unwrap_err();
            assert!(!error.to_string().is_empty(), "{bad}");
        }
        assert!(parse_endpoint(" https://collector.example/v1/events ").is_ok());
    }
}
