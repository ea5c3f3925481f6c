//! The favicon, served at `/favicon.ico` so that a browser logs no 404: a
//! 16×16 icon of three bars in the page's palette, drawn here rather than
//! kept as a binary file.

/// The favicon's bytes: an ICO file holding one 16×16, 32-bit bitmap.
#[must_use]
pub fn ico() -> Vec<u8> {
    const SIZE: u32 = 16;
    // (first column, last column, height, colour as BGRA): blue, orange, green.
    const BARS: [(u32, u32, u32, [u8; 4]); 3] = [
        (1, 4, 7, [0xb2, 0x72, 0x00, 0xff]),
        (6, 9, 11, [0x00, 0x9f, 0xe6, 0xff]),
        (11, 14, 15, [0x73, 0x9e, 0x00, 0xff]),
    ];
    let pixels = SIZE * SIZE * 4;
    let mask = SIZE * 4; // one bit a pixel, rows padded to 4 bytes
    let image = 40 + pixels + mask;
    let mut out = Vec::with_capacity(22 + image as usize);
    // ICONDIR: reserved, type 1 (icon), one image.
    out.extend_from_slice(&[0, 0, 1, 0, 1, 0]);
    // ICONDIRENTRY: 16×16, no palette, 1 plane, 32 bits, size, offset 22.
    out.extend_from_slice(&[16, 16, 0, 0, 1, 0, 32, 0]);
    out.extend_from_slice(&image.to_le_bytes());
    out.extend_from_slice(&22u32.to_le_bytes());
    // BITMAPINFOHEADER: the height counts the image and its mask.
    out.extend_from_slice(&40u32.to_le_bytes());
    out.extend_from_slice(&SIZE.to_le_bytes());
    out.extend_from_slice(&(2 * SIZE).to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&32u16.to_le_bytes());
    out.extend_from_slice(&[0; 24]);
    // Pixels, bottom row first.
    for row in 0..SIZE {
        for column in 0..SIZE {
            let pixel = BARS
                .iter()
                .find(|(first, last, height, _)| {
                    (*first..=*last).contains(&column) && row < *height
                })
                .map_or([0, 0, 0, 0], |bar| bar.3);
            out.extend_from_slice(&pixel);
        }
    }
    // The AND mask: all zero (the alpha channel decides).
    out.resize(out.len() + mask as usize, 0);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_icon_is_a_well_formed_16_pixel_ico() {
        let ico = super::ico();
        assert_eq!(&ico[..6], &[0, 0, 1, 0, 1, 0]);
        let size = u32::from_le_bytes([ico[14], ico[15], ico[16], ico[17]]) as usize;
        let offset = u32::from_le_bytes([ico[18], ico[19], ico[20], ico[21]]) as usize;
        assert_eq!((offset, offset + size), (22, ico.len()));
        assert_eq!(ico.len(), 22 + 40 + 16 * 16 * 4 + 16 * 4);
        // The bottom-left pixel is the blue bar, opaque; the top-left one is clear.
        assert_eq!(&ico[62 + 4..62 + 8], &[0xb2, 0x72, 0x00, 0xff]);
        assert_eq!(&ico[62 + 15 * 64..62 + 15 * 64 + 4], &[0, 0, 0, 0]);
    }
}
