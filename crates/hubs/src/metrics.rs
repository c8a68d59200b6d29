//! Agreement between two clusterings of the same items: normalised mutual information
//! (arithmetic-mean normalisation, as scikit-learn's default) and the adjusted Rand index.
//! Used to measure communities against labelled bloggers.

use std::collections::HashMap;
use std::hash::Hash;

/// Contingency counts of two labellings of the same items.
struct Table {
    n: f64,
    cells: Vec<f64>,
    rows: Vec<f64>,
    cols: Vec<f64>,
}

fn table<A: Hash + Eq, B: Hash + Eq>(a: &[A], b: &[B]) -> Table {
    assert_eq!(
        a.len(),
        b.len(),
        "both labellings must cover the same items"
    );
    let mut ia: HashMap<&A, usize> = HashMap::new();
    let mut ib: HashMap<&B, usize> = HashMap::new();
    let mut cells: HashMap<(usize, usize), f64> = HashMap::new();
    for (x, y) in a.iter().zip(b) {
        let na = ia.len();
        let i = *ia.entry(x).or_insert(na);
        let nb = ib.len();
        let j = *ib.entry(y).or_insert(nb);
        *cells.entry((i, j)).or_default() += 1.0;
    }
    let mut rows = vec![0.0; ia.len()];
    let mut cols = vec![0.0; ib.len()];
    for (&(i, j), &c) in &cells {
        rows[i] += c;
        cols[j] += c;
    }
    Table {
        n: a.len() as f64,
        cells: cells.into_values().collect(),
        rows,
        cols,
    }
}

fn entropy(counts: &[f64], n: f64) -> f64 {
    counts
        .iter()
        .filter(|&&c| c > 0.0)
        .map(|&c| {
            let p = c / n;
            -p * p.ln()
        })
        .sum()
}

/// Normalised mutual information in [0, 1]: 1 when the clusterings agree up to renaming.
pub fn nmi<A: Hash + Eq, B: Hash + Eq>(truth: &[A], found: &[B]) -> f64 {
    if truth.is_empty() {
        return 1.0;
    }
    let t = table(truth, found);
    let (hu, hv) = (entropy(&t.rows, t.n), entropy(&t.cols, t.n));
    if hu == 0.0 && hv == 0.0 {
        return 1.0;
    }
    // I(U;V) = H(U) + H(V) - H(U,V).
    let mi = hu + hv - entropy(&t.cells, t.n);
    (mi / ((hu + hv) / 2.0)).clamp(0.0, 1.0)
}

fn pairs(c: f64) -> f64 {
    c * (c - 1.0) / 2.0
}

/// Adjusted Rand index: 1 for identical clusterings, about 0 for chance agreement.
pub fn ari<A: Hash + Eq, B: Hash + Eq>(truth: &[A], found: &[B]) -> f64 {
    let t = table(truth, found);
    let index: f64 = t.cells.iter().map(|&c| pairs(c)).sum();
    let a: f64 = t.rows.iter().map(|&c| pairs(c)).sum();
    let b: f64 = t.cols.iter().map(|&c| pairs(c)).sum();
    let total = pairs(t.n);
    if total == 0.0 {
        return 1.0;
    }
    let expected = a * b / total;
    let max = (a + b) / 2.0;
    if max == expected {
        return 1.0;
    }
    (index - expected) / (max - expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_up_to_renaming() {
        let a = ["x", "x", "y", "y", "z"];
        let b = [7, 7, 3, 3, 1];
        assert!((nmi(&a, &b) - 1.0).abs() < 1e-12);
        assert!((ari(&a, &b) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn known_values() {
        // scikit-learn: normalized_mutual_info_score([0,0,1,1],[0,0,1,2]) = 0.8,
        // adjusted_rand_score([0,0,1,1],[0,0,1,2]) = 0.5714285714285715.
        let a = [0, 0, 1, 1];
        let b = [0, 0, 1, 2];
        assert!((nmi(&a, &b) - 0.8).abs() < 1e-9, "{}", nmi(&a, &b));
        assert!((ari(&a, &b) - 0.571_428_571_428_571_5).abs() < 1e-9);
        // Everything in one cluster against a real split: no information.
        assert!(nmi(&[0, 0, 1, 1], &[5, 5, 5, 5]).abs() < 1e-12);
        assert!(ari(&[0, 0, 1, 1], &[5, 5, 5, 5]).abs() < 1e-12);
    }
}
