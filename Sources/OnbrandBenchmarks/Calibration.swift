import Foundation
import OnbrandBudget

/// `onbrand-benchmarks calibrate-estimator MODEL CORPUS_DIR > Sources/OnbrandBudget/Estimator/EstimatorCalibration.swift`
///
/// Measures what runs of each kind and length cost with a real SentencePiece model, writes the
/// tables as Swift, and reports the estimator's error on the corpus: fitted on every sample, and
/// leave-one-out (each sample estimated by tables fitted without it), which is the honest figure
/// for text the tables were not tuned on.
enum Calibration {
    struct Key: Hashable {
        var kind: TextRunKind
        var isCapitalized: Bool
        var length: Int
    }

    /// Per sample: the tokens and the runs of each key it holds.
    struct Sample {
        var name: String
        var realTokens: Int
        var runs: [Key: (tokens: Double, count: Int)]
    }

    static let maximumLengths: [TextRunKind: Int] = [
        .latinWord: 24, .cyrillicWord: 24, .greekWord: 24, .arabicWord: 24, .hebrewWord: 24, .devanagariWord: 24,
        .otherWord: 24, .han: 48, .kana: 48, .hangul: 24, .thai: 48, .digit: 1, .punctuation: 16, .symbol: 8,
        .emoji: 8, .space: 32, .newline: 32, .tab: 8,
    ]

    static func run(model: String, corpus: String) throws {
        let tokenizer = try SentencePieceTokenizer(contentsOf: model)
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus).filter { $0.hasSuffix(".txt") }.sorted()
        var samples: [Sample] = []
        for file in files {
            let text = try String(contentsOfFile: (corpus as NSString).appendingPathComponent(file), encoding: .utf8)
            samples.append(sample(file, text, tokenizer))
        }
        let tables = fit(samples)
        func errors(_ tables: Tables, _ evaluated: [Sample], margin: Double) -> [Double] {
            evaluated.map { sample in
                let estimate = (estimateRaw(sample, tables) * margin).rounded(.up)
                return (estimate - Double(sample.realTokens)) / Double(sample.realTokens) * 100
            }
        }
        // Leave-one-out: raw estimates of each sample from tables fitted without it.
        let looRaw: [Double] = samples.indices.map { index in
            var others = samples
            others.remove(at: index)
            return estimateRaw(samples[index], fit(others))
        }
        func looErrors(margin: Double) -> [Double] {
            zip(samples, looRaw).map { sample, raw in ((raw * margin).rounded(.up) - Double(sample.realTokens)) / Double(sample.realTokens) * 100 }
        }
        // The smallest margin that keeps every leave-one-out sample within 3 % of under-counting.
        var margin = 1.0
        while (looErrors(margin: margin).min() ?? 0) < -3.0 && margin < 1.5 { margin += 0.0025 }
        let fitted = errors(tables, samples, margin: margin)
        let loo = looErrors(margin: margin)
        func summary(_ errors: [Double]) -> String {
            let mae = errors.map(abs).reduce(0, +) / Double(errors.count)
            return String(format: "MAE %.2f %%, worst under %+.1f %%, worst over %+.1f %%", mae, errors.min() ?? 0, errors.max() ?? 0)
        }
        let measurement = "\(samples.count) corpus samples, \((model as NSString).lastPathComponent): fitted \(summary(fitted)); leave-one-out \(summary(loo))"
        FileHandle.standardError.write(Data((measurement + "\n").utf8))
        for (sample, error) in zip(samples, loo) {
            FileHandle.standardError.write(Data(String(format: "  %+6.1f %%  %@\n", error, sample.name).utf8))
        }
        print(source(tables, margin: margin, measurement: measurement))
    }

    static func sample(_ name: String, _ text: String, _ tokenizer: SentencePieceTokenizer) -> Sample {
        let runs = TextRuns.split(text)
        var tokensPerRun = [Double](repeating: 0, count: runs.count)
        // Each token belongs to the run holding its last byte: "▁word" to the word, "▁▁" to the spaces.
        var runIndex = 0
        for token in tokenizer.encodeWithSpans(text) {
            let last = max(token.range.upperBound - 1, token.range.lowerBound)
            while runIndex < runs.count - 1, runs[runIndex].range.upperBound <= last { runIndex += 1 }
            var index = runIndex
            while index > 0, runs[index].range.lowerBound > last { index -= 1 }
            tokensPerRun[index] += 1
        }
        var grouped: [Key: (tokens: Double, count: Int)] = [:]
        for (run, tokens) in zip(runs, tokensPerRun) {
            let key = key(for: run)
            grouped[key, default: (0, 0)].tokens += tokens
            grouped[key, default: (0, 0)].count += 1
        }
        return Sample(name: name, realTokens: tokenizer.count(text), runs: grouped)
    }

    static func key(for run: TextRun) -> Key {
        Key(kind: run.kind, isCapitalized: run.kind == .latinWord && run.innerCapitals > 0, length: run.length)
    }

    struct Tables {
        var costs: [TextRunKind: [Double]]
        var capitalized: [Double]
    }

    /// Mean tokens per run for each kind and length; thin lengths come from a line fitted to the
    /// kind's data; kinds without any data borrow a similar script's table.
    static func fit(_ samples: [Sample]) -> Tables {
        var totals: [Key: (tokens: Double, count: Int)] = [:]
        for sample in samples {
            for (key, value) in sample.runs {
                var clamped = key
                clamped.length = min(key.length, maximumLengths[key.kind] ?? 24)
                // Runs past the table's end are priced by extrapolation, so they teach only the last cell.
                let scale = Double(clamped.length) / Double(key.length)
                totals[clamped, default: (0, 0)].tokens += value.tokens * (key.length == clamped.length ? 1 : scale)
                totals[clamped, default: (0, 0)].count += value.count
            }
        }
        func table(_ kind: TextRunKind, capitalized: Bool) -> [Double]? {
            let maximum = maximumLengths[kind] ?? 24
            var points: [(length: Double, tokens: Double, weight: Double)] = []
            for length in 1...maximum {
                if let value = totals[Key(kind: kind, isCapitalized: capitalized, length: length)], value.count > 0 {
                    points.append((Double(length), value.tokens / Double(value.count), Double(value.count)))
                }
            }
            guard !points.isEmpty else { return nil }
            // Weighted least squares line through the measured means.
            let weight = points.map(\.weight).reduce(0, +)
            let meanX = points.map { $0.length * $0.weight }.reduce(0, +) / weight
            let meanY = points.map { $0.tokens * $0.weight }.reduce(0, +) / weight
            let covariance = points.map { ($0.length - meanX) * ($0.tokens - meanY) * $0.weight }.reduce(0, +)
            let variance = points.map { ($0.length - meanX) * ($0.length - meanX) * $0.weight }.reduce(0, +)
            let slope = variance > 0 ? max(covariance / variance, 0) : 0
            let intercept = meanY - slope * meanX
            var result: [Double] = []
            for length in 1...maximum {
                let value = totals[Key(kind: kind, isCapitalized: capitalized, length: length)]
                let line = max(intercept + slope * Double(length), 0)
                if let value, value.count >= 8 {
                    result.append(value.tokens / Double(value.count))
                } else if let value, value.count > 0 {
                    // Few samples: shrink toward the line.
                    let share = Double(value.count) / 8
                    result.append(share * value.tokens / Double(value.count) + (1 - share) * line)
                } else {
                    result.append(line)
                }
            }
            // Longer runs never cost less.
            for index in 1..<result.count where result[index] < result[index - 1] { result[index] = result[index - 1] }
            return result
        }
        var costs: [TextRunKind: [Double]] = [:]
        for kind in TextRunKind.allCases { costs[kind] = table(kind, capitalized: false) }
        let fallbacks: [(TextRunKind, TextRunKind)] = [
            (.greekWord, .cyrillicWord), (.hebrewWord, .arabicWord), (.otherWord, .devanagariWord), (.thai, .kana),
            (.tab, .space), (.symbol, .punctuation), (.emoji, .symbol),
        ]
        for (missing, similar) in fallbacks where costs[missing] == nil { costs[missing] = costs[similar] }
        let capitalized = table(.latinWord, capitalized: true) ?? costs[.latinWord] ?? []
        return Tables(costs: costs, capitalized: capitalized)
    }

    static func estimateRaw(_ sample: Sample, _ tables: Tables) -> Double {
        var total = 0.0
        for (key, value) in sample.runs {
            let table = key.isCapitalized ? tables.capitalized : (tables.costs[key.kind] ?? [])
            total += Double(value.count) * TokenEstimator.lookup(table, key.length)
        }
        return total
    }

    static func source(_ tables: Tables, margin: Double, measurement: String) -> String {
        func literal(_ values: [Double]) -> String {
            "[" + values.map { String(format: "%.3f", $0) }.joined(separator: ", ") + "]"
        }
        var lines = [
            "// Generated by `onbrand-benchmarks calibrate-estimator`; do not edit by hand, run it again.",
            "",
            "/// The token estimator's tables, measured on ../shared/data/token-corpus with the Gemma 3",
            "/// SentencePiece model: for each run kind, the mean tokens a run of each length costs.",
            "public enum EstimatorCalibration {",
            "    /// How the tables were measured and how well they do.",
            "    public static let measurement = \"\(measurement)\"",
            "",
            "    /// Raises every estimate so that no leave-one-out sample under-counts by more than 3 %.",
            "    public static let safetyMargin = \(String(format: "%.4f", margin))",
            "",
            "    public static let costs: [TextRunKind: [Double]] = [",
        ]
        for kind in TextRunKind.allCases {
            lines.append("        .\(kind): \(literal(tables.costs[kind] ?? [])),")
        }
        lines.append("    ]")
        lines.append("")
        lines.append("    public static let capitalizedLatinCosts: [Double] = \(literal(tables.capitalized))")
        lines.append("}")
        return lines.joined(separator: "\n")
    }
}
