//! Well-known binary (ISO WKB) read and written again in a byte order: points, lines,
//! polygons, their multi forms and collections, in 2 to 4 dimensions, nested at most
//! [`MAX_DEPTH`] deep; every count is checked against the bytes left.

/// The deepest collections may nest.
pub const MAX_DEPTH: usize = 64;

/// The byte order of WKB numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Order {
    Little,
    Big,
}

/// WKB read and written again in `order`, or why it is not WKB.
pub fn rewrite(bytes: &[u8], order: Order) -> Result<Vec<u8>, String> {
    let mut reader = WkbReader { bytes, at: 0 };
    let mut out = Vec::with_capacity(bytes.len());
    reader.geometry(order, &mut out, 0)?;
    if reader.at != bytes.len() {
        return Err(format!("{} bytes follow the geometry", bytes.len() - reader.at));
    }
    Ok(out)
}

struct WkbReader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl WkbReader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let taken = self.bytes.get(self.at..self.at + N).ok_or("the bytes end inside the geometry")?;
        self.at += N;
        Ok(taken.try_into().expect("N bytes"))
    }

    fn u32(&mut self, order: Order) -> Result<u32, String> {
        let raw = self.take::<4>()?;
        Ok(if order == Order::Little { u32::from_le_bytes(raw) } else { u32::from_be_bytes(raw) })
    }

    fn write_u32(value: u32, order: Order, out: &mut Vec<u8>) {
        out.extend_from_slice(&if order == Order::Little { value.to_le_bytes() } else { value.to_be_bytes() });
    }

    /// A count of items of at least `item_size` bytes each, checked against the bytes left.
    fn count(&mut self, from: Order, to: Order, item_size: usize, out: &mut Vec<u8>) -> Result<usize, String> {
        let count = self.u32(from)? as usize;
        if count.saturating_mul(item_size) > self.bytes.len() - self.at {
            return Err(format!("it claims {count} parts, more than its bytes hold"));
        }
        Self::write_u32(count as u32, to, out);
        Ok(count)
    }

    fn points(&mut self, count: usize, dimensions: usize, from: Order, to: Order, out: &mut Vec<u8>) -> Result<(), String> {
        for _ in 0..count * dimensions {
            let mut raw = self.take::<8>()?;
            if from != to {
                raw.reverse();
            }
            out.extend_from_slice(&raw);
        }
        Ok(())
    }

    fn geometry(&mut self, to: Order, out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("it nests deeper than {MAX_DEPTH}"));
        }
        let from = match self.take::<1>()?[0] {
            0 => Order::Big,
            1 => Order::Little,
            other => return Err(format!("the byte order mark is {other}, not 0 or 1")),
        };
        out.push(if to == Order::Little { 1 } else { 0 });
        let code = self.u32(from)?;
        Self::write_u32(code, to, out);
        let (kind, dimensions) = match code / 1000 {
            0 => (code, 2),
            1 | 2 => (code % 1000, 3),
            3 => (code % 1000, 4),
            _ => return Err(format!("the geometry type {code} is not one of ISO WKB's")),
        };
        let point_size = 8 * dimensions;
        match kind {
            1 => self.points(1, dimensions, from, to, out),
            2 => {
                let count = self.count(from, to, point_size, out)?;
                self.points(count, dimensions, from, to, out)
            }
            3 => {
                let rings = self.count(from, to, 4, out)?;
                for _ in 0..rings {
                    let count = self.count(from, to, point_size, out)?;
                    self.points(count, dimensions, from, to, out)?;
                }
                Ok(())
            }
            4..=7 => {
                let parts = self.count(from, to, 5, out)?;
                (0..parts).try_for_each(|_| self.geometry(to, out, depth + 1))
            }
            other => Err(format!("the geometry type {other} is not one of ISO WKB's")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Order, rewrite};

    #[test]
    fn rewrites_wkb_in_either_byte_order() {
        let point = hex("0101000000000000000000F03F0000000000000040");
        let big = rewrite(&point, Order::Big).unwrap();
        assert_eq!(big, hex("00000000013FF00000000000004000000000000000"));
        assert_eq!(rewrite(&big, Order::Little).unwrap(), point);
        let line = hex("010200000002000000000000000000F03F000000000000004000000000000008400000000000001040");
        assert_eq!(rewrite(&rewrite(&line, Order::Big).unwrap(), Order::Little).unwrap(), line);
        assert!(rewrite(&point[..10], Order::Little).is_err());
        assert!(rewrite(&hex("0102000000FFFFFFFF"), Order::Little).is_err());
    }

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
    }
}
