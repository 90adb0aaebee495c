import Foundation
import GeminiEmulator
import GeminiKit
import OnbrandBudget
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The emulator on loopback, spoken to over real HTTP.
@Suite struct EmulatorTests {
    struct Answer {
        var status: Int
        var body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var error: [String: Any] { json["error"] as? [String: Any] ?? [:] }
    }

    static func call(
        _ emulator: RunningEmulator, _ path: String, method: String = "POST", key: String? = "test-key", body: Any? = nil
    ) async throws -> Answer {
        var request = URLRequest(url: URL(string: emulator.baseURL + path)!)
        request.httpMethod = method
        if let key { request.setValue(key, forHTTPHeaderField: "x-goog-api-key") }
        if let body {
            request.httpBody = try (body as? Data) ?? JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return Answer(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data)
    }

    static func imageRequest(ratio: String = "4:5", size: String = "2K", grounding: Bool = false) throws -> Data {
        let request = GenerateContentRequest(
            contents: [Content(parts: [Part(text: "Product: Trail Jacket – Forest (ID NW-1).\nPalette: Forest #2E5140; Ember #E0703A;")])],
            tools: grounding ? [Tool(googleSearch: .init(searchTypes: .init(webSearch: true, imageSearch: true)))] : nil,
            generationConfig: GenerationConfig(responseModalities: ["TEXT", "IMAGE"], imageConfig: .init(aspectRatio: ratio, imageSize: size)))
        return try WireCoding.encoder().encode(request)
    }

    static func pngSize(_ data: Data) -> (Int, Int)? {
        guard data.count > 24, data.starts(with: [0x89, 0x50, 0x4E, 0x47]) else { return nil }
        func int(_ at: Int) -> Int { data[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (int(16), int(20))
    }

    @Test func generatesImagesOfTheExactSizeWithAltTextAndUsage() async throws {
        let emulator = try await EmulatorServer.start()
        defer { Task { await emulator.stop() } }
        for (ratio, size, expected) in [("4:5", "2K", (1856, 2304)), ("8:1", "512", (1536, 192)), ("1:1", "1K", (1024, 1024))] {
            let answer = try await Self.call(
                emulator, "/v1beta/models/gemini-3.1-flash-image-preview:generateContent", body: try Self.imageRequest(ratio: ratio, size: size))
            #expect(answer.status == 200)
            let response = try WireCoding.decoder().decode(GenerateContentResponse.self, from: answer.body)
            let parts = try #require(response.candidates?.first?.content?.parts)
            #expect(parts.first?.text?.contains("ALT: Trail Jacket – Forest on a plain background") == true)
            let image = try #require(parts.first { $0.inlineData != nil }?.inlineData)
            #expect(image.mimeType == "image/png")
            let png = try #require(Data(base64Encoded: image.data))
            #expect(Self.pngSize(png).map { [$0.0, $0.1] } == [expected.0, expected.1], "\(ratio) \(size)")
            #expect(response.candidates?.first?.finishReason == .stop)
            let expectedTokens = ["2K": 1680, "512": 747, "1K": 1120][size]!
            #expect(response.usageMetadata?.outputImageTokens == expectedTokens)
            #expect(response.modelVersion == "gemini-3.1-flash-image-preview")
        }
    }

    @Test func groundedCallsCarryGroundingMetadata() async throws {
        let emulator = try await EmulatorServer.start()
        defer { Task { await emulator.stop() } }
        let answer = try await Self.call(
            emulator, "/v1/models/gemini-3.1-flash-image:generateContent", body: try Self.imageRequest(grounding: true))
        let grounding = try #require(try WireCoding.decoder().decode(GenerateContentResponse.self, from: answer.body).candidates?.first?.groundingMetadata)
        #expect(grounding.webSearchQueries?.isEmpty == false && grounding.imageSearchQueries?.isEmpty == false)
        #expect(grounding.groundingChunks?.first?.web?.uri?.hasPrefix("https://vertexaisearch.cloud.google.com/grounding-api-redirect/") == true)
        #expect(grounding.searchEntryPoint?.renderedContent?.isEmpty == false)
    }

    @Test func errorsUseTheRealEnvelope() async throws {
        let emulator = try await EmulatorServer.start()
        defer { Task { await emulator.stop() } }
        let missing = try await Self.call(emulator, "/v1beta/models/gemini-9-ultra:generateContent", body: try Self.imageRequest())
        #expect(missing.status == 404 && missing.error["status"] as? String == "NOT_FOUND")
        #expect((missing.error["message"] as? String)?.hasPrefix("models/gemini-9-ultra is not found for API version v1beta") == true)

        let ratio = try await Self.call(
            emulator, "/v1beta/models/gemini-3-pro-image-preview:generateContent", body: try Self.imageRequest(ratio: "8:1"))
        #expect(ratio.status == 400 && ratio.error["status"] as? String == "INVALID_ARGUMENT")
        let lowerK = try await Self.call(
            emulator, "/v1beta/models/gemini-3.1-flash-image-preview:generateContent", body: try Self.imageRequest(size: "1k"))
        #expect(lowerK.status == 400)

        let unknown: [String: Any] = [
            "contents": [["parts": [["text": "hi"]]]],
            "generation_config": ["image_config": ["aspect_ratio": "1:1", "personGeneration": "ALLOW_ALL"]],
        ]
        let field = try await Self.call(emulator, "/v1beta/models/gemini-3.1-flash-image-preview:generateContent", body: unknown)
        #expect(field.status == 400)
        #expect(field.error["message"] as? String == "Invalid JSON payload received. Unknown name \"personGeneration\" at 'generation_config.image_config': Cannot find field.")
        let details = try #require(field.error["details"] as? [[String: Any]])
        #expect(details.first?["@type"] as? String == "type.googleapis.com/google.rpc.BadRequest")

        let anonymous = try await Self.call(emulator, "/v1beta/models/gemini-3.1-flash-image-preview:generateContent", key: nil, body: try Self.imageRequest())
        #expect(anonymous.status == 403 && anonymous.error["status"] as? String == "PERMISSION_DENIED")

        let huge = GenerateContentRequest(contents: [Content(parts: [Part(text: String(repeating: "word ", count: 40_000))])])
        let tooBig = try await Self.call(emulator, "/v1beta/models/gemini-2.5-flash-image:generateContent", body: try WireCoding.encoder().encode(huge))
        #expect(tooBig.status == 400)
        #expect((tooBig.error["message"] as? String)?.hasPrefix("The input token count (") == true)
        #expect((tooBig.error["message"] as? String)?.hasSuffix("exceeds the maximum number of tokens allowed (32768).") == true)
    }

    @Test func keyInTheQueryIsAcceptedAndModelsAreListed() async throws {
        let emulator = try await EmulatorServer.start()
        defer { Task { await emulator.stop() } }
        let model = try await Self.call(emulator, "/v1beta/models/gemini-3-pro-image-preview?key=abc", method: "GET", key: nil)
        #expect(model.status == 200)
        #expect(model.json["inputTokenLimit"] as? Int == 131_072 && model.json["name"] as? String == "models/gemini-3-pro-image-preview")
        let list = try await Self.call(emulator, "/v1beta/models", method: "GET")
        let names = (list.json["models"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
        #expect(names.contains("models/gemini-3.1-flash-image-preview") && !names.contains("models/flux-1.1-pro-ultra"))
        let count = try await Self.call(
            emulator, "/v1beta/models/gemini-3.1-flash-image-preview:countTokens",
            body: ["contents": [["parts": [["text": "Hello, world!"], ["inline_data": ["mime_type": "image/png", "data": "AAAA"]]]]]])
        #expect(count.status == 200)
        #expect((count.json["totalTokens"] as? Int ?? 0) > 1120, "the image costs 1120 tokens on Nano Banana 2")
    }

    @Test func scriptedFaultsFollowTheSpec() async throws {
        let emulator = try await EmulatorServer.start(
            configuration: .init(faults: FaultPlan(argument: "script:429,image-safety,prompt-blocked,text-only,ok")!))
        defer { Task { await emulator.stop() } }
        let path = "/v1beta/models/gemini-3.1-flash-image-preview:generateContent"
        let limited = try await Self.call(emulator, path, body: try Self.imageRequest())
        #expect(limited.status == 429)
        let envelope = try WireCoding.decoder().decode(APIErrorEnvelope.self, from: limited.body)
        #expect(envelope.retryDelay == 2 && envelope.error.status == "RESOURCE_EXHAUSTED")
        let safety = try WireCoding.decoder().decode(
            GenerateContentResponse.self, from: try await Self.call(emulator, path, body: try Self.imageRequest()).body)
        #expect(safety.candidates?.first?.finishReason == .imageSafety && safety.candidates?.first?.content?.parts == nil)
        let blocked = try WireCoding.decoder().decode(
            GenerateContentResponse.self, from: try await Self.call(emulator, path, body: try Self.imageRequest()).body)
        #expect(blocked.candidates == nil && blocked.promptFeedback?.blockReason == .safety)
        let textOnly = try WireCoding.decoder().decode(
            GenerateContentResponse.self, from: try await Self.call(emulator, path, body: try Self.imageRequest()).body)
        #expect(textOnly.candidates?.first?.finishReason == .stop)
        #expect(textOnly.candidates?.first?.content?.parts?.contains { $0.inlineData != nil } == false)
        let fine = try await Self.call(emulator, path, body: try Self.imageRequest())
        #expect(fine.status == 200)
        let statuses = await emulator.log.entries.map(\.status)
        #expect(statuses == [429, 200, 200, 200, 200])
    }

    @Test func randomFaultsAreRepeatableForASeed() async throws {
        func statuses(seed: UInt64) async throws -> [Int] {
            let emulator = try await EmulatorServer.start(configuration: .init(faults: FaultPlan(rate: 0.5, kinds: [.unavailable]), seed: seed))
            var result: [Int] = []
            for index in 0..<12 {
                let body = try WireCoding.encoder().encode(
                    GenerateContentRequest(contents: [Content(parts: [Part(text: "Product: Item \(index).")])]))
                result.append(try await Self.call(emulator, "/v1beta/models/gemini-3.1-flash-image-preview:generateContent", body: body).status)
            }
            await emulator.stop()
            return result
        }
        let first = try await statuses(seed: 7)
        #expect(first == (try await statuses(seed: 7)))
        #expect(first.contains(503) && first.contains(200))
    }

    @Test func streamingSendsServerSentEvents() async throws {
        let emulator = try await EmulatorServer.start()
        defer { Task { await emulator.stop() } }
        let answer = try await Self.call(
            emulator, "/v1beta/models/gemini-3.1-flash-image-preview:streamGenerateContent?alt=sse", body: try Self.imageRequest(size: "512"))
        let text = String(decoding: answer.body, as: UTF8.self)
        let events = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(events.count == 2 && events.allSatisfy { $0.hasPrefix("data: {") })
        let last = try WireCoding.decoder().decode(GenerateContentResponse.self, from: Data(events[1].dropFirst(6).utf8))
        #expect(last.candidates?.first?.finishReason == .stop && last.candidates?.first?.content?.parts?.first?.inlineData != nil)
    }
}
