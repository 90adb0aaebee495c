import Foundation
import OnbrandBudget
import OnbrandInputs
import OnbrandPipeline

/// Benchmarks for BENCHMARKS.md. Timings live here, never in unit tests.
///
///     swift run -c release onbrand-benchmarks ingest FEED.xml [--repeat N]
///
/// Prints products, seconds, products/s, MB/s and peak RSS (VmHWM) as one line of JSON.

func peakRSSKilobytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
    return 0
}

/// User and system CPU seconds of the whole process so far (every thread).
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

func ingest(_ path: String) throws -> (products: Int, seconds: Double) {
    let start = ContinuousClock.now
    let reader = try CatalogReader(contentsOf: path)
    var count = 0
    var fields = 0
    while let product = try reader.next() {
        count += 1
        fields += product.extraAttributes.count + product.details.count
    }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    precondition(fields >= 0)
    return (count, seconds)
}

let arguments = CommandLine.arguments.dropFirst()
if arguments.first == "calibrate-estimator", arguments.count == 4 {
    try Calibration.run(
        model: arguments[arguments.startIndex + 1], corpus: arguments[arguments.startIndex + 2], output: arguments[arguments.startIndex + 3])
    exit(0)
}
if arguments.first == "tokenize", arguments.count >= 3 {
    // tokenize MODEL FILE…: exact-mode speed over the files, repeated until at least 2 s have passed.
    let tokenizer = try SentencePieceTokenizer(contentsOf: arguments[arguments.startIndex + 1])
    let texts = try arguments.dropFirst(2).map { try String(contentsOfFile: $0, encoding: .utf8) }
    let bytes = texts.reduce(0) { $0 + $1.utf8.count }
    var tokens = 0
    var rounds = 0
    let start = ContinuousClock.now
    var elapsed = 0.0
    while elapsed < 2 {
        for text in texts { tokens += tokenizer.count(text) }
        rounds += 1
        let duration = ContinuousClock.now - start
        elapsed = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
    print(String(format: "{\"benchmark\":\"tokenize\",\"files\":%d,\"rounds\":%d,\"tokensPerSecond\":%.0f,\"megabytesPerSecond\":%.2f}",
        texts.count, rounds, Double(tokens) / elapsed, Double(bytes * rounds) / 1e6 / elapsed))
    exit(0)
}
if arguments.first == "client" {
    try await ClientBenchmark.run(Array(arguments.dropFirst()))
    exit(0)
}
if arguments.first == "plan-stages", arguments.count == 4 {
    // plan-stages FEED BRAND_DIR TEMPLATE: one thread, products in memory; microseconds per unit
    // for each stage of planning (render and count, then encode), to show where a unit's time goes.
    let brand = try BrandLoader.loadOrThrow(arguments[arguments.startIndex + 2])
    let template = try TemplateLoader.loadOrThrow(arguments[arguments.startIndex + 3])
    let reader = try CatalogReader(contentsOf: arguments[arguments.startIndex + 1])
    // Warmed up on other products than those timed: planned a second time, every product line
    // would be one the estimator's memo has met before, which it never is in a real plan.
    var warmUp: [Product] = []
    var products: [Product] = []
    while warmUp.count < 20_000, let product = try reader.next() { warmUp.append(product) }
    while products.count < 20_000, let product = try reader.next() { products.append(product) }
    let planner = Planner(brand: brand)
    let locale = brand.localeCodes[0]
    func microseconds(_ body: () -> Void) -> Double {
        let start = ContinuousClock.now
        body()
        let elapsed = ContinuousClock.now - start
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) * 1e6 / Double(products.count)
    }
    var plans: [UnitPlan] = []
    for product in warmUp { _ = planner.plan(template, product: product, locale: locale) }
    let planning = microseconds { plans = products.map { planner.plan(template, product: $0, locale: locale) } }
    var bytes = 0
    let encoding = microseconds {
        for start in stride(from: 0, to: plans.count, by: 512) { bytes += PlanWriter.encode(plans[start..<min(start + 512, plans.count)]).byteCount }
    }
    print(String(format: "{\"benchmark\":\"plan-stages\",\"units\":%d,\"planMicroseconds\":%.2f,\"encodeMicroseconds\":%.2f,\"bytesPerUnit\":%d}",
        products.count, planning, encoding, bytes / products.count))
    exit(0)
}
if arguments.first == "plan", arguments.count == 4 || (arguments.count == 6 && arguments.dropFirst(4).first == "--rounds") {
    // plan FEED BRAND_DIR TEMPLATE [--rounds N]: every product × the template × the brand's first
    // locale, written as a plan to a temporary directory; ingest alone is timed first, in the same
    // run. With rounds, ingest and plan alternate N times: one line a round, then a line of medians
    // (this machine's speed wanders from one run to the next; the ratio of one pair is noisy).
    let feed = arguments[arguments.startIndex + 1]
    let brand = try BrandLoader.loadOrThrow(arguments[arguments.startIndex + 2])
    let template = try TemplateLoader.loadOrThrow(arguments[arguments.startIndex + 3])
    let rounds = arguments.count == 6 ? Int(arguments[arguments.startIndex + 5]) ?? 0 : 1
    guard rounds > 0 else {
        FileHandle.standardError.write(Data("--rounds wants a whole number of rounds, 1 or more\n".utf8))
        exit(64)
    }
    struct Round {
        var units = 0, failed = 0
        var seconds = 0.0, ingestSeconds = 0.0, cpuSeconds = 0.0, ingestCPUSeconds = 0.0, requestsMegabytes = 0.0
        var ratio: Double { seconds / ingestSeconds }
        var line: String {
            String(format: "{\"benchmark\":\"plan\",\"units\":%d,\"failed\":%d,\"seconds\":%.3f,\"unitsPerSecond\":%.0f,\"ingestSeconds\":%.3f,\"ratioToIngest\":%.2f,\"cpuSeconds\":%.2f,\"ingestCPUSeconds\":%.2f,\"requestsMegabytes\":%.1f,\"peakRSSMegabytes\":%.1f}",
                units, failed, seconds, Double(units) / seconds, ingestSeconds, ratio, cpuSeconds, ingestCPUSeconds, requestsMegabytes,
                Double(peakRSSKilobytes()) / 1024)
        }
    }
    func planRound() throws -> Round {
        var round = Round()
        let cpuBeforeIngest = cpuSeconds()
        round.ingestSeconds = try ingest(feed).seconds
        round.ingestCPUSeconds = cpuSeconds() - cpuBeforeIngest
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("onbrand-plan-bench-\(getpid())")
        // Removed by hand, also before `exit`, which skips `defer`: each round writes half a gigabyte.
        defer { try? FileManager.default.removeItem(at: directory) }
        let start = ContinuousClock.now
        let cpuBeforePlan = cpuSeconds()
        let planner = Planner(brand: brand)
        let writer = try PlanWriter(directory: directory)
        let reader = try CatalogReader(contentsOf: feed)
        let locale = brand.localeCodes[0]
        let workers = Int(ProcessInfo.processInfo.environment["PLAN_WORKERS"] ?? "") ?? ProcessInfo.processInfo.activeProcessorCount
        try ParallelPlanning.run(planner: planner, writer: writer, workers: workers) {
            // Not `.map`: its closure borrows the product, and the unit would take a copy.
            guard let product = try reader.next() else { return nil }
            return ParallelPlanning.Unit(template: template, product: product, locale: locale)
        }
        let summary = try writer.finish()
        let elapsed = ContinuousClock.now - start
        round.cpuSeconds = cpuSeconds() - cpuBeforePlan
        round.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        round.units = summary.units
        round.failed = summary.failed
        let bytes = (try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("requests.jsonl").path)[.size] as? NSNumber)?.intValue ?? 0
        round.requestsMegabytes = Double(bytes) / 1e6
        return round
    }
    var done: [Round] = []
    for _ in 0..<rounds {
        done.append(try planRound())
        if rounds > 1 { print(done[done.count - 1].line) }
    }
    func median(_ value: (Round) -> Double) -> Double {
        let sorted = done.map(value).sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
    if rounds == 1 {
        print(done[0].line)
    } else {
        // Each figure is the median of its own column; `ratioToIngest` is the median of the rounds' ratios.
        let ratios = done.map(\.ratio).sorted()
        print(String(format: "{\"benchmark\":\"plan\",\"rounds\":%d,\"units\":%d,\"failed\":%d,\"seconds\":%.3f,\"ingestSeconds\":%.3f,\"ratioToIngest\":%.2f,\"minRatio\":%.2f,\"maxRatio\":%.2f,\"roundsAtOrUnder2\":%d,\"cpuSeconds\":%.2f,\"ingestCPUSeconds\":%.2f,\"peakRSSMegabytes\":%.1f}",
            rounds, done[0].units, done[0].failed, median(\.seconds), median(\.ingestSeconds), median(\.ratio), ratios[0], ratios[ratios.count - 1],
            ratios.filter { $0 <= 2.0 }.count, median(\.cpuSeconds), median(\.ingestCPUSeconds), Double(peakRSSKilobytes()) / 1024))
    }
    exit(0)
}
guard arguments.first == "ingest", let path = arguments.dropFirst().first else {
    FileHandle.standardError.write(Data("usage: onbrand-benchmarks ingest FEED.xml [--repeat N] | calibrate-estimator MODEL CORPUS_DIR OUT.swift | tokenize MODEL FILE... | plan FEED BRAND TEMPLATE [--rounds N] | client --base-url URL --out DIR [--count N] [--concurrency C] [--size S]\n".utf8))
    exit(64)
}
var repeats = 1
if let index = arguments.firstIndex(of: "--repeat"), let value = arguments[arguments.index(after: index)...].dropFirst().first ?? nil {
    repeats = Int(value) ?? 1
}
let bytes = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.doubleValue ?? 0
var best = Double.infinity
var products = 0
for _ in 0..<repeats {
    let run = try ingest(path)
    products = run.products
    best = min(best, run.seconds)
}
let line = String(
    format: "{\"benchmark\":\"ingest\",\"file\":\"%@\",\"products\":%d,\"seconds\":%.3f,\"productsPerSecond\":%.0f,\"megabytesPerSecond\":%.1f,\"peakRSSMegabytes\":%.1f}",
    path, products, best, Double(products) / best, bytes / 1_000_000 / best, Double(peakRSSKilobytes()) / 1024)
print(line)
