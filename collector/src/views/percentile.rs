//! Nearest-rank percentiles: the smallest value with at least p% of the
//! values at or below it.

use serde_json::Value;

/// The `p`-th percentile (0 < p ≤ 100) of `values`, sorting them; `None`
/// for no values.
pub fn nearest_rank(values: &mut [i64], p: u32) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    let rank = (n * p as usize).div_ceil(100).max(1);
    values.get(rank - 1).copied()
}

/// The percentile as JSON (`null` for no values).
pub fn json(values: &mut [i64], p: u32) -> Value {
    nearest_rank(values, p).map_or(Value::Null, Value::from)
}

/// The `p`-th percentile of values with counts (a histogram's buckets
/// beside raw values, each of count 1); `null` for none.
pub fn weighted_json(values: &mut [(i64, u64)], p: u32) -> Value {
    let total: u64 = values.iter().map(|(_, count)| count).sum();
    if total == 0 {
        return Value::Null;
    }
    values.sort_unstable();
    let rank = (total * u64::from(p)).div_ceil(100).max(1);
    let mut seen = 0;
    for (value, count) in values.iter() {
        seen += count;
        if seen >= rank {
            return Value::from(*value);
        }
    }
    Value::Null
}

#[cfg(test)]
mod tests {
    use super::nearest_rank;

    #[test]
    fn nearest_rank_on_known_lists() {
        let mut values = vec![15, 20, 35, 40, 50];
        assert_eq!(nearest_rank(&mut values, 5), Some(15));
        assert_eq!(nearest_rank(&mut values, 30), Some(20));
        assert_eq!(nearest_rank(&mut values, 40), Some(20));
        assert_eq!(nearest_rank(&mut values, 50), Some(35));
        assert_eq!(nearest_rank(&mut values, 100), Some(50));
        let mut values: Vec<i64> = (1..=100).rev().collect();
        assert_eq!(nearest_rank(&mut values, 95), Some(95));
        assert_eq!(nearest_rank(&mut [], 50), None);
        assert_eq!(nearest_rank(&mut [7], 95), Some(7));
        let mut weighted = vec![(50, 1), (15, 1), (20, 1), (35, 1), (40, 1)];
        assert_eq!(super::weighted_json(&mut weighted, 40), 20);
        assert_eq!(super::weighted_json(&mut [(5, 3), (9, 1)], 75), 5);
        assert_eq!(super::weighted_json(&mut [(5, 3), (9, 1)], 76), 9);
    }
}
