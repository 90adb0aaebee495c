import Foundation
import GeminiKit

/// `onbrand-benchmarks client --base-url URL [--count N] [--concurrency C] [--size 1K] [--ratio 1:1] --out DIR`
///
/// The GeminiKit half of scripts/bench-client.sh: N image calls, C in flight, each answer decoded
/// (base64 to bytes, checked by ``ImageResult``) and written to DIR, as scripts/bench-sdk.py does
/// with google-genai. Prints one JSON line in the same shape.
enum ClientBenchmark {
    static func run(_ arguments: [String]) async throws {
        var options: [String: String] = ["--count": "1000", "--concurrency": "64", "--size": "1K", "--ratio": "1:1",
                                         "--model": "gemini-3.1-flash-image-preview"]
        var index = 0
        while index + 1 < arguments.count {
            options[arguments[index]] = arguments[index + 1]
            index += 2
        }
        guard let base = options["--base-url"], let out = options["--out"], let count = Int(options["--count"]!),
            let concurrency = Int(options["--concurrency"]!), count > 0, concurrency > 0
        else {
            FileHandle.standardError.write(Data("usage: onbrand-benchmarks client --base-url URL --out DIR [--count N] [--concurrency C] [--size S] [--ratio R]\n".utf8))
            exit(2)
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let client = GeminiClient(configuration: .init(apiKey: "bench", baseURL: base, timeout: .seconds(600)))
        let model = options["--model"]!
        let config = GenerationConfig(responseModalities: ["TEXT", "IMAGE"], imageConfig: .init(aspectRatio: options["--ratio"], imageSize: options["--size"]))
        let start = ContinuousClock.now
        var bytes = 0
        var failed = 0
        var firstError: String?
        try await withThrowingTaskGroup(of: Result<Int, GeminiError>.self) { group in
            func add(_ i: Int) {
                group.addTask {
                    let request = GenerateContentRequest(
                        contents: [Content(parts: [Part(text: "product \(i) on a white background, brand colours #1f6feb #ffcc00")])],
                        generationConfig: config)
                    do throws(GeminiError) {
                        let result = ImageResult(try await client.generateContent(model: model, request: request))
                        guard let image = result.image else {
                            return .failure(GeminiError(code: .malformedResponse, status: 200, message: "no image: \(result.outcome)", model: model))
                        }
                        try? image.write(to: URL(fileURLWithPath: "\(out)/\(i).png"))
                        return .success(image.count)
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var next = 0
            while next < min(concurrency, count) {
                add(next)
                next += 1
            }
            while let result = try await group.next() {
                switch result {
                case .success(let size): bytes += size
                case .failure(let error):
                    failed += 1
                    if firstError == nil { firstError = "\(error)" }
                }
                if next < count {
                    add(next)
                    next += 1
                }
            }
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(String(format: "{\"client\":\"GeminiKit\",\"count\":%d,\"concurrency\":%d,\"seconds\":%.3f,\"images_per_s\":%.2f,\"mb_per_s\":%.2f,\"failed\":%d,\"peak_rss_mb\":%.1f}",
            count, concurrency, seconds, Double(count - failed) / seconds, Double(bytes) / 1e6 / seconds, failed, Double(peakRSSKilobytes()) / 1024))
        if let firstError {
            FileHandle.standardError.write(Data("first error: \(firstError)\n".utf8))
            exit(1)
        }
    }
}
