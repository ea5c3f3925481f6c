//! The dashboard: one server-rendered page (`GET /`), its stylesheet
//! (`/style.css`) and its favicon (`/favicon.ico`).
//!
//! No script and no request to another origin: the charts are inline SVG
//! ([`chart`]), coloured by the stylesheet's classes, and the filters are a
//! plain GET form ([`filter`]). [`CONTENT_SECURITY_POLICY`] is sent with
//! the page and holds it to that.

pub mod chart;
pub mod favicon;
pub mod filter;
pub mod html;
pub mod page;

/// The stylesheet, served at `/style.css`.
pub const STYLE_CSS: &str = include_str!("style.css");

/// The page's `Content-Security-Policy`: nothing but this origin's
/// stylesheet and images, forms posted only here, no frames.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
