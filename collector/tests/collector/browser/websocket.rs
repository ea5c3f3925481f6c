//! A WebSocket client just large enough for the DevTools protocol on
//! 127.0.0.1 (RFC 6455): the upgrade, masked text frames out, text frames
//! in (fragments joined), pings answered. No TLS, no extensions.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One open WebSocket connection.
pub struct WebSocket {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    mask_seed: u32,
}

impl WebSocket {
    /// Connects to `ws://HOST:PORT/PATH` and upgrades.
    pub fn connect(url: &str) -> io::Result<WebSocket> {
        let rest = url
            .strip_prefix("ws://")
            .ok_or_else(|| io::Error::other(format!("not a ws:// URL: {url}")))?;
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let stream = TcpStream::connect(host)?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        let mut writer = stream.try_clone()?;
        // The key only has to be 16 bytes, base64: the server echoes a hash
        // of it, which a loopback test has no reason to doubt.
        write!(
            writer,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )?;
        let mut reader = BufReader::new(stream);
        let mut status = String::new();
        reader.read_line(&mut status)?;
        if !status.starts_with("HTTP/1.1 101") {
            return Err(io::Error::other(format!("upgrade refused: {status}")));
        }
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        Ok(WebSocket {
            reader,
            writer,
            mask_seed: 0x9e37_79b9,
        })
    }

    /// Sends one text message.
    pub fn send(&mut self, text: &str) -> io::Result<()> {
        self.send_frame(0x1, text.as_bytes())
    }

    fn send_frame(&mut self, opcode: u8, payload: &[u8]) -> io::Result<()> {
        let mut frame = vec![0x80 | opcode];
        let len = payload.len();
        if len < 126 {
            frame.push(0x80 | len as u8);
        } else if len <= 0xffff {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
        // Client frames must be masked; any mask will do.
        self.mask_seed = self
            .mask_seed
            .wrapping_mul(1_664_525)
            .wrapping_add(1_013_904_223);
        let mask = self.mask_seed.to_be_bytes();
        frame.extend_from_slice(&mask);
        frame.extend(
            payload
                .iter()
                .enumerate()
                .map(|(index, byte)| byte ^ mask[index % 4]),
        );
        self.writer.write_all(&frame)
    }

    /// The next text message (pings are answered on the way).
    pub fn receive(&mut self) -> io::Result<String> {
        let mut message = Vec::new();
        loop {
            let mut head = [0u8; 2];
            self.reader.read_exact(&mut head)?;
            let (fin, opcode) = (head[0] & 0x80 != 0, head[0] & 0x0f);
            let len = match head[1] & 0x7f {
                126 => {
                    let mut bytes = [0u8; 2];
                    self.reader.read_exact(&mut bytes)?;
                    u64::from(u16::from_be_bytes(bytes))
                }
                127 => {
                    let mut bytes = [0u8; 8];
                    self.reader.read_exact(&mut bytes)?;
                    u64::from_be_bytes(bytes)
                }
                short => u64::from(short),
            };
            let mut mask = None;
            if head[1] & 0x80 != 0 {
                let mut bytes = [0u8; 4];
                self.reader.read_exact(&mut bytes)?;
                mask = Some(bytes);
            }
            let mut payload = vec![0u8; usize::try_from(len).map_err(io::Error::other)?];
            self.reader.read_exact(&mut payload)?;
            if let Some(mask) = mask {
                payload
                    .iter_mut()
                    .enumerate()
                    .for_each(|(index, byte)| *byte ^= mask[index % 4]);
            }
            match opcode {
                0x0..=0x2 => {
                    message.extend_from_slice(&payload);
                    if fin {
                        return String::from_utf8(message).map_err(io::Error::other);
                    }
                }
                0x8 => {
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "the browser closed the connection",
                    ))
                }
                0x9 => self.send_frame(0xA, &payload)?,
                _ => {}
            }
        }
    }
}
