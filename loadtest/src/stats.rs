//! Latency recording: HDR histograms in shards (so thousands of connections record without
//! contending on one lock), merged from raw samples for the report, never by averaging
//! percentiles. Per-second histograms feed the plot.

use hdrhistogram::Histogram;
use serde::Serialize;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

const SHARDS: usize = 64;
const MAX_MICROS: u64 = 120_000_000;

struct Shard {
    all: Histogram<u64>,
    per_second: Vec<Histogram<u64>>,
}

#[derive(Clone)]
pub struct Recorder {
    start: Instant,
    shards: Arc<Vec<Mutex<Shard>>>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("valid histogram bounds")
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder {
            start: Instant::now(),
            shards: Arc::new(
                (0..SHARDS)
                    .map(|_| {
                        Mutex::new(Shard {
                            all: histogram(),
                            per_second: Vec::new(),
                        })
                    })
                    .collect(),
            ),
        }
    }

    /// Records one latency sample, in microseconds, from recorder slot `slot`.
    pub fn record(&self, slot: usize, micros: u64) {
        let value = micros.clamp(1, MAX_MICROS);
        let second = self.start.elapsed().as_secs() as usize;
        let mut shard = self.shards[slot % SHARDS]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let _ = shard.all.record(value);
        while shard.per_second.len() <= second {
            shard.per_second.push(histogram());
        }
        let _ = shard.per_second[second].record(value);
    }

    pub fn merged(&self) -> Histogram<u64> {
        let mut all = histogram();
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            let _ = all.add(&shard.all);
        }
        all
    }

    pub fn series(&self) -> Vec<Histogram<u64>> {
        let mut series: Vec<Histogram<u64>> = Vec::new();
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            for (s, h) in shard.per_second.iter().enumerate() {
                while series.len() <= s {
                    series.push(histogram());
                }
                let _ = series[s].add(h);
            }
        }
        series
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub samples: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    pub fn of(h: &Histogram<u64>) -> Latency {
        let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        Latency {
            samples: h.len(),
            p50_ms: ms(0.50),
            p90_ms: ms(0.90),
            p99_ms: ms(0.99),
            p999_ms: ms(0.999),
            max_ms: h.max() as f64 / 1000.0,
        }
    }
}

pub fn micros_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// Draws p50/p99/max per second to an SVG file.
pub fn plot(path: &Path, title: &str, series: &[Histogram<u64>]) -> anyhow::Result<()> {
    use plotters::prelude::*;
    let points = |q: Option<f64>| -> Vec<(f64, f64)> {
        series
            .iter()
            .enumerate()
            .filter(|(_, h)| !h.is_empty())
            .map(|(s, h)| {
                let v = match q {
                    Some(q) => h.value_at_quantile(q),
                    None => h.max(),
                };
                (s as f64, v as f64 / 1000.0)
            })
            .collect()
    };
    let (p50, p99, max) = (points(Some(0.5)), points(Some(0.99)), points(None));
    let top = max.iter().map(|p| p.1).fold(1.0, f64::max) * 1.1;
    let right = series.len().max(2) as f64;
    let root = SVGBackend::new(path, (900, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..right, 0f64..top)?;
    chart
        .configure_mesh()
        .x_desc("seconds")
        .y_desc("latency (ms)")
        .draw()?;
    for (data, color, label) in [(p50, BLUE, "p50"), (p99, RED, "p99"), (max, BLACK, "max")] {
        chart
            .draw_series(LineSeries::new(data, color.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    chart.configure_series_labels().border_style(BLACK).draw()?;
    root.present()?;
    Ok(())
}
