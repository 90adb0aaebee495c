import ArgumentParser
import Foundation
import GeminiEmulator
import OnbrandBudget

/// `onbrand emulator`: the built-in Gemini API emulator, on loopback.
struct Emulator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a local emulator of the Gemini API (generateContent, streamGenerateContent, countTokens, models).",
        discussion: """
            Answers with real PNG images of the exact size for the requested ratio and size, coloured from the \
            hex colours in the request, with alt text, grounding metadata and usage by modality. Faults: \
            --faults 0.2 (20 % of calls, any kind), --faults 0.2:429,503, or --faults script:429,ok,image-safety. \
            Kinds: \(Fault.allCases.map(\.rawValue).joined(separator: ", ")).
            """
    )

    @Option(help: "Port on 127.0.0.1 (0 picks a free one).")
    var port: Int = 8089

    @Option(help: "Latency per call in milliseconds: a number, or MIN-MAX for a uniform draw.")
    var latency: String = "0"

    @Option(help: "Faults to inject (see above).")
    var faults: String?

    @Option(help: "Seed for repeatable latency and faults.")
    var seed: UInt64 = 42

    @Option(name: .customLong("image-grain"), help: "Per-pixel noise in images: 0 draws flat images of a few KB; 6 gives photograph-sized files (about 1.5 MB at 1K).")
    var imageGrain: Int = 0

    @Option(help: "Accept only this API key (default: any non-empty key).")
    var apiKey: String?

    @Option(help: "A JSON file of model profiles that add to or override the built-in ones.")
    var models: String?

    func validate() throws {
        if EmulatorConfiguration.Latency(argument: latency) == nil {
            throw ValidationError("--latency takes milliseconds, e.g. 20000 or 500-2000")
        }
        if !(0...127).contains(imageGrain) {
            throw ValidationError("--image-grain takes 0 to 127 (6 looks like a photograph's noise)")
        }
        if let faults, FaultPlan(argument: faults) == nil {
            throw ValidationError("--faults takes a rate (0.2), a rate with kinds (0.2:429,503) or a script (script:429,ok)")
        }
        if !(0...65535).contains(port) { throw ValidationError("--port must be from 0 to 65535") }
    }

    func run() async throws {
        var catalog = ModelCatalog()
        if let models {
            do { try catalog.apply(overridesAt: models) } catch {
                Output.note(error.description)
                throw ExitCode(2)
            }
        }
        let configuration = EmulatorConfiguration(
            models: catalog, apiKey: apiKey, latency: EmulatorConfiguration.Latency(argument: latency) ?? .none,
            faults: faults.flatMap(FaultPlan.init(argument:)) ?? .none, seed: seed, imageGrain: imageGrain)
        try await EmulatorServer.run(configuration: configuration, port: port) { bound in
            Output.note("Gemini API emulator listening on http://127.0.0.1:\(bound) (Ctrl-C stops it)")
        }
    }
}
