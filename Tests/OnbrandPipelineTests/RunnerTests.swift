import Foundation
import GeminiEmulator
import GeminiKit
import OnbrandBudget
import OnbrandInputs
import OnbrandPipeline
import OnbrandTestSupport
import Testing

/// End to end: the run against the emulator on loopback.
@Suite(.serialized) struct RunnerTests {
    static let brand = TestFiles.packageRoot.appendingPathComponent("brands/northwind").path

    static func options(out: URL, limit: Int = 3) -> RunOptions {
        var options = RunOptions(brandPath: brand)
        options.outputDirectory = out.path
        options.limit = limit
        options.backend = .emulator
        options.retry = RetryPolicy(maximumAttempts: 4, baseDelay: .milliseconds(5), maximumDelay: .milliseconds(20))
        return options
    }

    @Test func proofModeWritesEveryOutputAndRerunsSkipThem() async throws {
        try await TestFiles.withTemporaryDirectoryAsync { directory in
            let first = try await Runner(options: Self.options(out: directory)).run()
            #expect(first.backend == "emulator")
            #expect(first.units == 3 * 2 * 3 && first.succeeded == first.units && first.failed == 0)
            let folder = directory.appendingPathComponent("northwind/catalog-packshot")
            let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            #expect(files.filter { $0.hasSuffix(".png") }.count == 9)
            #expect(files.filter { $0.hasSuffix(".alt.txt") }.count == 9)
            let sidecarName = try #require(files.first { $0.hasSuffix(".de-DE.json") })
            let sidecar = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(sidecarName))) as? [String: Any])
            #expect(sidecar["backend"] as? String == "emulator" && sidecar["locale"] as? String == "de-DE")
            #expect((sidecar["image"] as? [String: Any])?["ratioMatches"] as? Bool == true)
            let alt = try String(contentsOf: folder.appendingPathComponent(sidecarName.replacingOccurrences(of: ".json", with: ".alt.txt")), encoding: .utf8)
            #expect(alt.hasSuffix("\n") && alt.dropLast().contains("\n") == false && !alt.isEmpty, "one line of UTF-8")
            let manifest = try String(contentsOf: directory.appendingPathComponent("northwind/manifest.jsonl"), encoding: .utf8)
            #expect(manifest.split(separator: "\n").count == 18 && manifest.contains("\"backend\":\"emulator\""))
            let written = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("northwind/summary.json"))) as? [String: Any])
            #expect(written["succeeded"] as? Int == 18 && (written["estimatedInputTokens"] as? Int ?? 0) > 0)

            let second = try await Runner(options: Self.options(out: directory)).run()
            #expect(second.skipped == 18 && second.succeeded == 0, "nothing unchanged is sent again")
        }
    }

    @Test func aCatalogRefreshRegeneratesOnlyWhatChanged() async throws {
        try await TestFiles.withTemporaryDirectoryAsync { directory in
            let original = try String(contentsOfFile: Self.brand + "/catalog.xml", encoding: .utf8)
            let catalog = directory.appendingPathComponent("catalog.xml")
            try original.write(to: catalog, atomically: true, encoding: .utf8)
            var options = Self.options(out: directory, limit: 5)
            options.catalog = catalog.path
            _ = try await Runner(options: options).run()
            // Change three products' titles.
            var changed = original
            for id in ["NW-TJ-FO-S", "NW-TJ-FO-M", "NW-TJ-EM-S"] {
                changed = changed.replacingOccurrences(of: "<g:id>\(id)</g:id>", with: "<g:id>\(id)</g:id><g:pattern>Herringbone</g:pattern>")
            }
            try changed.write(to: catalog, atomically: true, encoding: .utf8)
            let refresh = try await Runner(options: options).run()
            #expect(refresh.succeeded == 3 * 2 * 3, "exactly 3 products × 2 templates × 3 locales")
            #expect(refresh.skipped == 2 * 2 * 3)
        }
    }

    @Test func faultsEndAsSuccessOrAClassifiedFailureAndNothingSucceededTwice() async throws {
        let emulator = try await EmulatorServer.start(
            configuration: .init(faults: FaultPlan(rate: 0.2, kinds: [.rateLimited, .internalError, .unavailable, .textOnly, .imageSafety, .wrappedError])))
        defer { Task { await emulator.stop() } }
        try await TestFiles.withTemporaryDirectoryAsync { directory in
            var options = Self.options(out: directory, limit: 6)
            options.backend = .gemini
            options.baseURL = emulator.baseURL
            options.apiKey = "SECRET-KEY-never-in-files"
            options.retry = RetryPolicy(maximumAttempts: 3, baseDelay: .milliseconds(5), maximumDelay: .milliseconds(10))
            let summary = try await Runner(options: options).run()
            #expect(summary.succeeded + summary.failed == summary.units)
            #expect(Set(summary.failures.keys).isSubset(of: ["quota", "capacity", "no image", "blocked by safety"]), "\(summary.failures)")
            let successes = await emulator.log.successfulGenerations
            let digests = Dictionary(grouping: successes, by: \.bodyDigest).filter { entries in
                // A text-only answer is a 200 but not a success; count only bodies that produced images.
                entries.value.count > 1 && entries.value.allSatisfy { $0.fault == nil }
            }
            #expect(digests.isEmpty, "no unit that succeeded was sent again")
            // The key never reaches a file.
            let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
            while let url = enumerator?.nextObject() as? URL {
                guard let data = try? Data(contentsOf: url) else { continue }
                #expect(data.range(of: Data("SECRET-KEY".utf8)) == nil, "\(url.lastPathComponent)")
            }
        }
    }

    @Test func maximumCostStopsStartingUnits() async throws {
        try await TestFiles.withTemporaryDirectoryAsync { directory in
            var options = Self.options(out: directory, limit: 5)
            options.concurrency = 1
            options.maximumCost = 0.35
            let summary = try await Runner(options: options).run()
            #expect(summary.notStarted > 0 && summary.stoppedByBudget)
            #expect(summary.costUSD <= 0.35)
            #expect(summary.succeeded >= 2)
        }
    }

    @Test func unsafeProductIDsGetSafeStableNames() {
        #expect(OutputWriter.safeStem(for: "NW-0001") == "NW-0001")
        let traversal = OutputWriter.safeStem(for: "../../etc/passwd")
        #expect(!traversal.contains("/") && !traversal.hasPrefix(".") && traversal.hasPrefix("etc_passwd-"))
        #expect(OutputWriter.safeStem(for: "../../etc/passwd") == traversal, "stable")
        #expect(OutputWriter.safeStem(for: "a/b") != OutputWriter.safeStem(for: "a_b"), "unique")
        #expect(OutputWriter.safeStem(for: "CON").hasPrefix("CON-"))
        #expect(OutputWriter.safeStem(for: "x\u{0}y").hasPrefix("x_y-"))
        #expect(OutputWriter.safeStem(for: String(repeating: "a", count: 300)).count <= 90)
    }
}

extension TestFiles {
    /// `withTemporaryDirectory` for async bodies.
    static func withTemporaryDirectoryAsync<T>(_ body: (URL) async throws -> T) async throws -> T {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("onbrand-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: url) }
        return try await body(url)
    }
}

@Suite struct OpenAIBackendTests {
    @Test func gatewayModelsRunThroughTheOpenAISurface() async throws {
        let emulator = try await EmulatorServer.start()
        defer { Task { await emulator.stop() } }
        try await TestFiles.withTemporaryDirectoryAsync { directory in
            let template = """
                {"id": "gateway-packshot", "version": "1", "model": "flux-1.1-pro-ultra",
                 "output": {"responseModalities": ["IMAGE"], "aspectRatio": "1:1", "imageSize": "1K"},
                 "sections": [{"id": "facts", "priority": "required", "text": "{{product.title}}. Palette {{#brand.palette}}{{hex}} {{/brand.palette}}"}],
                 "prompt": "A clean packshot of {{product.title}} on white.",
                 "altText": {"mode": "fallback-only", "fallback": "{{product.title}} on a white background"}}
                """
            let path = try TestFiles.write(template, to: "gateway.json", in: directory)
            var options = RunnerTests.options(out: directory, limit: 2)
            options.templates = [path]
            options.locales = ["en-US"]
            options.backend = .openai
            options.baseURL = emulator.baseURL + "/v1"
            options.apiKey = "gateway-key"
            let summary = try await Runner(options: options).run()
            #expect(summary.succeeded == 2 && summary.failed == 0, "\(summary.failures)")
            let folder = directory.appendingPathComponent("northwind/gateway-packshot")
            let alt = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".alt.txt") }
            #expect(alt.count == 2)
            let text = try String(contentsOf: folder.appendingPathComponent(alt[0]), encoding: .utf8)
            #expect(text.hasSuffix("on a white background\n"), "alt text from the template's fallback")
            let paths = await emulator.log.entries.map(\.path)
            #expect(paths.allSatisfy { $0 == "/v1/images/generations" })
        }
    }

    /// A gateway template beside a Gemini one in proof mode: each model goes to its own provider,
    /// and without a gateway the run refuses to start and says what to set.
    @Test func eachTemplateGoesToItsModelsProvider() async throws {
        try await TestFiles.withTemporaryDirectoryAsync { directory in
            let template = """
                {"id": "gateway-packshot", "version": "1", "model": "flux-1.1-pro-ultra",
                 "output": {"responseModalities": ["IMAGE"], "aspectRatio": "1:1", "imageSize": "1K"},
                 "sections": [{"id": "facts", "priority": "required", "text": "{{product.title}}."}],
                 "prompt": "A clean packshot of {{product.title}} on white.",
                 "altText": {"mode": "fallback-only", "fallback": "{{product.title}} on a white background"}}
                """
            let gatewayTemplate = try TestFiles.write(template, to: "gateway.json", in: directory)
            var options = RunnerTests.options(out: directory, limit: 2)
            options.templates = [gatewayTemplate, TestFiles.packageRoot.appendingPathComponent("templates/catalog-packshot.xml").path]
            options.locales = ["en-US"]
            let summary = try await Runner(options: options).run()
            #expect(summary.backend == "emulator")
            #expect(summary.succeeded == 4 && summary.failed == 0, "\(summary.failures)")
            let folder = directory.appendingPathComponent("northwind/gateway-packshot")
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".png") }.count == 2)

            options.backend = .gemini
            options.apiKey = "a-key"
            options.baseURL = "http://127.0.0.1:9"
            let error = await #expect(throws: RunError.self) { try await Runner(options: options).run() }
            #expect(error?.description.contains("--gateway-url") == true)
        }
    }

    @Test func gatewayErrorsAreReadFromTheWrappedEnvelope() async throws {
        let emulator = try await EmulatorServer.start()
        defer { Task { await emulator.stop() } }
        let client = OpenAICompatibleClient(configuration: .init(apiKey: "", baseURL: emulator.baseURL + "/v1", retry: .none))
        let error = try await #require(throws: GeminiError.self) {
            try await client.generateContent(model: "flux-1.1-pro-ultra", request: GenerateContentRequest(contents: [Content(parts: [Part(text: "x")])]))
        }
        #expect(error.code == .badAPIKey && error.status == 401)
    }
}

/// Units whose estimate is near the input limit are counted by the API before they are paid for.
@Suite(.serialized) struct CountTokensTests {
    /// A template whose optional section is most of the request, for the countTokens tests.
    static let nearLimitTemplate = """
        <?xml version="1.0" encoding="UTF-8"?>
        <template id="near-limit" version="1">
          <model>gemini-3.1-flash-image-preview</model>
          <output aspect-ratio="1:1" image-size="1K"><modality>TEXT</modality><modality>IMAGE</modality></output>
          <sections>
            <section id="facts" priority="required">Product: {{product.title}} (ID {{product.id}}).</section>
            <section id="story" priority="low">\(String(repeating: "Trail gear is tested on long climbs in wind and rain before it ships. ", count: 40))</section>
          </sections>
          <prompt>Photograph the {{product.title}} on plain white.</prompt>
          <alt-text mode="inline"><instruction>Give alt text in {{locale.code}}.</instruction><fallback>{{product.title}}</fallback></alt-text>
        </template>
        """

    /// Runs the near-limit template for one product against an emulator whose model leaves the
    /// estimate 2 % of room and whose tokenizer counts `factor` times the estimate.
    static func runNearTheLimit(factor: Double, batch: Bool = false, in directory: URL) async throws -> (RunSummary, [String], [String: Any]?) {
        let templatePath = try TestFiles.write(nearLimitTemplate, to: "near-limit.xml", in: directory)
        let brand = try BrandLoader.loadOrThrow(RunnerTests.brand)
        let template = try TemplateLoader.loadOrThrow(templatePath)
        let catalog = try #require(brand.defaults?.catalog)
        let product = try #require(try CatalogReader(contentsOf: catalog).next())
        let estimate = Planner(brand: brand).plan(template, product: product, locale: "en-US").report
        let limit = Int(Double(estimate.inputTokens + estimate.outputReserve) / 0.98)
        let profiles = ModelCatalog.builtIn.map { profile in
            var profile = profile
            if profile.id == "gemini-3.1-flash-image-preview" { profile.inputTokenLimit = limit }
            return profile
        }
        var configuration = EmulatorConfiguration(models: ModelCatalog(profiles: profiles))
        configuration.textTokenFactor = factor
        let emulator = try await EmulatorServer.start(configuration: configuration)
        defer { Task { await emulator.stop() } }
        var options = RunnerTests.options(out: directory.appendingPathComponent("out"), limit: 1)
        options.backend = .gemini
        options.baseURL = emulator.baseURL
        options.apiKey = "test-key"
        options.templates = [templatePath]
        options.locales = ["en-US"]
        options.isBatch = batch
        options.batchPollInterval = .milliseconds(20)
        let summary = try await Runner(options: options).run()
        let paths = await emulator.log.entries.map(\.path)
        let sidecarURL = directory.appendingPathComponent("out/northwind/near-limit/\(OutputWriter.safeStem(for: product.id)).en-US.json")
        let sidecar = (try? Data(contentsOf: sidecarURL)).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        return (summary, paths, sidecar)
    }

    @Test func anEstimateNearTheLimitIsConfirmedWithCountTokens() async throws {
        try await TestFiles.withTemporaryDirectoryAsync { directory in
            let (summary, paths, sidecar) = try await Self.runNearTheLimit(factor: 1, in: directory)
            #expect(summary.succeeded == 1)
            #expect(paths.filter { $0.hasSuffix(":countTokens") }.count == 1)
            let check = try #require(sidecar?["tokenCheck"] as? [String: Any])
            #expect(check["replanned"] as? Bool == false)
        }
    }

    @Test func aUnitTheAPICountsOverTheLimitIsPlannedAgainWithLessContext() async throws {
        try await TestFiles.withTemporaryDirectoryAsync { directory in
            let (summary, paths, sidecar) = try await Self.runNearTheLimit(factor: 1.3, in: directory)
            #expect(summary.succeeded == 1, "\(summary.failures)")
            #expect(paths.filter { $0.hasSuffix(":countTokens") }.count == 2, "counted, planned again, counted again")
            let check = try #require(sidecar?["tokenCheck"] as? [String: Any])
            #expect(check["replanned"] as? Bool == true)
            let counted = try #require(check["countedInputTokens"] as? Int)
            let limit = try #require(check["inputLimit"] as? Int)
            let reserve = try #require(check["outputReserve"] as? Int)
            #expect(counted <= limit - reserve)
        }
    }

    @Test func aUnitWhoseRequiredSectionsDoNotFitByTheAPICountFailsBeforeItIsSent() async throws {
        try await TestFiles.withTemporaryDirectoryAsync { directory in
            let (summary, paths, _) = try await Self.runNearTheLimit(factor: 8, in: directory)
            #expect(summary.failures == ["over budget": 1], "\(summary)")
            #expect(!paths.contains { $0.hasSuffix(":generateContent") }, "nothing paid for")
        }
    }

    @Test func batchJobsCarryTheRequestAsConfirmed() async throws {
        try await TestFiles.withTemporaryDirectoryAsync { directory in
            let (summary, paths, sidecar) = try await Self.runNearTheLimit(factor: 1.3, batch: true, in: directory)
            #expect(summary.succeeded == 1, "\(summary.failures)")
            #expect(paths.filter { $0.hasSuffix(":countTokens") }.count == 2)
            #expect(paths.contains { $0.hasSuffix(":batchGenerateContent") })
            // The journal kept what countTokens said until the results came back.
            let check = try #require(sidecar?["tokenCheck"] as? [String: Any])
            #expect(check["replanned"] as? Bool == true && check["packedToLimit"] as? Int != nil)
        }
    }
}
