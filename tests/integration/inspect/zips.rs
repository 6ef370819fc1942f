//! Zip archives for the Inspect tests: written with the zip crate as
//! Inspect would, or by hand where a test needs headers that lie and a
//! deflate stream that expands a thousandfold.

use std::io::{Cursor, Write};

use zip::ZipWriter;
use zip::write::SimpleFileOptions;

/// Zips entries with the zip crate, as Inspect would write them.
pub fn zip_of(entries: &[(&str, Vec<u8>)], options: SimpleFileOptions) -> anyhow::Result<Vec<u8>> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in entries {
        writer.start_file(*name, options)?;
        writer.write_all(content)?;
    }
    Ok(writer.finish()?.into_inner())
}

/// One entry of a zip written by hand, for sizes the zip crate would not lie about.
pub struct RawEntry<'a> {
    pub name: &'a str,
    /// 0 stored, 8 deflate.
    pub method: u16,
    pub data: Vec<u8>,
    pub crc: u32,
    /// The uncompressed size the headers state, true or not.
    pub declared_size: u32,
}

impl<'a> RawEntry<'a> {
    /// A stored (uncompressed) entry with its true size and CRC.
    pub fn stored(name: &'a str, data: Vec<u8>) -> Self {
        let (crc, size) = (crc32(&data), data.len() as u32);
        Self {
            name,
            method: 0,
            data,
            crc,
            declared_size: size,
        }
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Writes a zip (local headers, central directory, end record) by hand.
pub fn raw_zip(entries: &[RawEntry<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut directory = Vec::new();
    for entry in entries {
        let offset = out.len() as u32;
        let header = |signature: u32, central: bool| {
            let mut header = Vec::new();
            header.extend_from_slice(&signature.to_le_bytes());
            if central {
                header.extend_from_slice(&20u16.to_le_bytes());
            }
            for field in [20u16, 0, entry.method, 0, 0x21] {
                header.extend_from_slice(&field.to_le_bytes());
            }
            header.extend_from_slice(&entry.crc.to_le_bytes());
            header.extend_from_slice(&(entry.data.len() as u32).to_le_bytes());
            header.extend_from_slice(&entry.declared_size.to_le_bytes());
            header.extend_from_slice(&(entry.name.len() as u16).to_le_bytes());
            header.extend_from_slice(&0u16.to_le_bytes());
            if central {
                for field in [0u16, 0, 0] {
                    header.extend_from_slice(&field.to_le_bytes());
                }
                header.extend_from_slice(&0u32.to_le_bytes());
                header.extend_from_slice(&offset.to_le_bytes());
            }
            header.extend_from_slice(entry.name.as_bytes());
            header
        };
        out.extend(header(0x0403_4b50, false));
        out.extend_from_slice(&entry.data);
        directory.extend(header(0x0201_4b50, true));
    }
    let directory_offset = out.len() as u32;
    out.extend_from_slice(&directory);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for field in [0u16, 0, entries.len() as u16, entries.len() as u16] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    out.extend_from_slice(&(directory.len() as u32).to_le_bytes());
    out.extend_from_slice(&directory_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// A deflate stream that inflates to `1 + 258 * copies` zero bytes: one
/// literal, then back-references of length 258 at distance 1, 13 bits
/// each, in one fixed-Huffman block. About 2 MB inflate to 300 MiB.
pub fn deflate_bomb(copies: usize) -> Vec<u8> {
    let mut bits = BitWriter::default();
    bits.put(1, 1); // the final block
    bits.put(1, 2); // fixed Huffman codes
    bits.code(0x30, 8); // literal 0
    for _ in 0..copies {
        bits.code(0b1100_0101, 8); // length 258
        bits.code(0, 5); // distance 1
    }
    bits.code(0, 7); // end of block
    bits.finish()
}

#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    pending: u32,
    count: u32,
}

impl BitWriter {
    /// Appends `width` bits of `value`, least significant first.
    fn put(&mut self, value: u32, width: u32) {
        self.pending |= value << self.count;
        self.count += width;
        while self.count >= 8 {
            self.out.push((self.pending & 0xff) as u8);
            self.pending >>= 8;
            self.count -= 8;
        }
    }

    /// Appends a Huffman code, which deflate packs most significant bit first.
    fn code(&mut self, code: u32, width: u32) {
        self.put(code.reverse_bits() >> (32 - width), width);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.count > 0 {
            self.out.push((self.pending & 0xff) as u8);
        }
        self.out
    }
}
