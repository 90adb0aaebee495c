import Foundation
import GeminiEmulator
import GeminiKit
import OnbrandTestSupport
import Testing

@Suite struct GeminiClientTests {
    static let fastRetries = RetryPolicy(maximumAttempts: 4, baseDelay: .milliseconds(5), maximumDelay: .milliseconds(20))

    static func request(ratio: String = "16:9", size: String = "1K") -> GenerateContentRequest {
        GenerateContentRequest(
            contents: [Content(parts: [Part(text: "Product: Merino Hoodie – Slate (ID NW-2).\nPalette: Slate #4E535B; Mist #F2EEE8;")])],
            generationConfig: GenerationConfig(responseModalities: ["TEXT", "IMAGE"], imageConfig: .init(aspectRatio: ratio, imageSize: size)))
    }

    @Test func generatesAgainstTheEmulatorAndInterpretsTheAnswer() async throws {
        let emulator = try await EmulatorServer.start()
        defer { Task { await emulator.stop() } }
        let client = GeminiClient(configuration: .init(apiKey: "k", baseURL: emulator.baseURL, retry: Self.fastRetries))
        let response = try await client.generateContent(model: "gemini-3-pro-image-preview", request: Self.request())
        let result = ImageResult(response)
        #expect(result.outcome == .success)
        #expect(result.mimeType == "image/png")
        #expect(result.altText == "Merino Hoodie – Slate on a plain background")
        #expect(result.pixelSize.map { [$0.width, $0.height] } == [1376, 768])
        #expect(result.matches(aspectRatio: "16:9") == true && result.matches(aspectRatio: "1:1") == false)
        #expect(result.usage?.outputImageTokens == 1120 && (result.usage?.thoughtsTokenCount ?? 0) > 0)
        let limit = try await client.model("gemini-3.1-flash-image").inputTokenLimit
        #expect(limit == 131_072)
        #expect(try await client.countTokens(model: "gemini-3.1-flash-image-preview", request: Self.request()) > 0)
    }

    @Test func retriesCapacityErrorsThenSucceeds() async throws {
        let emulator = try await EmulatorServer.start(configuration: .init(faults: FaultPlan(argument: "script:503,500,429,ok")!))
        defer { Task { await emulator.stop() } }
        let client = GeminiClient(
            configuration: .init(apiKey: "k", baseURL: emulator.baseURL, retry: RetryPolicy(maximumAttempts: 5, baseDelay: .milliseconds(5))))
        let started = ContinuousClock.now
        let response = try await client.generateContent(model: "gemini-3.1-flash-image-preview", request: Self.request())
        #expect(ImageResult(response).outcome == .success)
        #expect(await emulator.log.entries.map(\.status) == [503, 500, 429, 200])
        #expect(ContinuousClock.now - started >= .seconds(2), "the 429's RetryInfo (2 s) is honoured")
    }

    @Test func timeoutsAndTruncatedAnswersAreRetried() async throws {
        let emulator = try await EmulatorServer.start(configuration: .init(faults: FaultPlan(argument: "script:timeout,truncated,ok")!))
        defer { Task { await emulator.stop() } }
        let client = GeminiClient(
            configuration: .init(apiKey: "k", baseURL: emulator.baseURL, timeout: .milliseconds(500), retry: Self.fastRetries))
        let response = try await client.generateContent(model: "gemini-3.1-flash-image-preview", request: Self.request())
        #expect(ImageResult(response).outcome == .success)
        let faults = await emulator.log.entries.map(\.fault)
        #expect(faults == [.truncatedBody, nil], "the timed-out call is never logged: the client gave up first")
    }

    @Test func neverRetriesAWrongRequestAndNamesTheProblem() async throws {
        let calls = Counter()
        let transport = ClosureTransport { request in
            await calls.increment()
            #expect(request.header("x-goog-api-key") == "secret-key-123")
            let body = #"{"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]}}"#
            return HTTPResponseMessage(status: 400, body: Data(body.utf8))
        }
        let client = GeminiClient(configuration: .init(apiKey: "secret-key-123", retry: Self.fastRetries), transport: transport)
        let error = try await #require(throws: GeminiError.self) { try await client.generateContent(model: "gemini-3.1-flash-image", request: Self.request()) }
        #expect(error.code == .badAPIKey)
        #expect(error.description.contains("GEMINI_API_KEY"))
        #expect(!error.description.contains("secret-key-123"), "the key never reaches an error")
        #expect(await calls.value == 1)
    }

    @Test func givesUpAfterTheLastAttemptWithTheCount() async throws {
        let calls = Counter()
        let transport = ClosureTransport { _ in
            await calls.increment()
            return HTTPResponseMessage(status: 503, body: Data(#"[{"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}}]"#.utf8))
        }
        let client = GeminiClient(configuration: .init(apiKey: "k", retry: Self.fastRetries), transport: transport)
        let error = try await #require(throws: GeminiError.self) { try await client.generateContent(model: "m", request: Self.request()) }
        #expect(error.code == .capacity && error.attempts == 4)
        #expect(error.message == "The model is overloaded. Please try again later.", "an error wrapped in an array is read")
        #expect(await calls.value == 4)
    }

    @Test func dailyQuotaIsNotRetried() async throws {
        let transport = ClosureTransport { _ in
            let body = #"{"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED", "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel"}]}]}}"#
            return HTTPResponseMessage(status: 429, body: Data(body.utf8))
        }
        let client = GeminiClient(configuration: .init(apiKey: "k", retry: Self.fastRetries), transport: transport)
        let error = try await #require(throws: GeminiError.self) { try await client.generateContent(model: "m", request: Self.request()) }
        #expect(error.code == .quotaExhausted(quotaID: "GenerateRequestsPerDayPerProjectPerModel", retryAfter: nil, isDaily: true))
        #expect(error.attempts == 1 && error.description.contains("daily quota"))
    }

    @Test func backoffUsesFullJitterAndHonoursTheServer() {
        let policy = RetryPolicy()
        #expect(policy.backoffCeiling(beforeAttempt: 2) == .seconds(1))
        #expect(policy.backoffCeiling(beforeAttempt: 5) == .seconds(8))
        #expect(policy.backoffCeiling(beforeAttempt: 20) == .seconds(60), "capped")
        #expect(policy.delay(beforeAttempt: 3, serverDelay: nil, random: 0.5) == .seconds(1))
        #expect(policy.delay(beforeAttempt: 3, serverDelay: .seconds(15), random: 0.5) == .seconds(15), "RetryInfo wins when longer")
    }

    @Test func rateLimiterSpacesCallsAndCapsInFlight() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(requestsPerMinute: 60, maximumInFlight: 2, clock: clock)
        let started = Counter()
        let tasks = (0..<3).map { _ in Task { try await limiter.acquire(); await started.increment() } }
        try await waitUntil { await started.value == 1 && clock.sleeperCount == 1 }
        clock.advance(by: .seconds(1))
        try await waitUntil { await started.value == 2 }
        #expect(await limiter.callsInFlight == 2)
        // The third waits for a permit, not for time.
        clock.advance(by: .seconds(5))
        try await Task.sleep(for: .milliseconds(50))
        #expect(await started.value == 2)
        await limiter.release()
        try await waitUntil { await started.value == 3 }
        for task in tasks { _ = try await task.value }
    }

    @Test func interpretsEveryOutcome() throws {
        func outcome(_ json: String) throws -> ImageResult.Outcome {
            ImageResult(try WireCoding.decoder().decode(GenerateContentResponse.self, from: Data(json.utf8))).outcome
        }
        #expect(try outcome(#"{"candidates": [{"content": {"parts": [{"text": "no picture"}]}, "finishReason": "STOP"}]}"#) == .noImage)
        #expect(try outcome(#"{"candidates": [{"finishReason": "NO_IMAGE"}]}"#) == .noImage)
        #expect(try outcome(#"{"candidates": [{"content": {"role": "model"}, "finishReason": "IMAGE_SAFETY"}]}"#) == .blocked(reason: "IMAGE_SAFETY"))
        #expect(try outcome(#"{"promptFeedback": {"blockReason": "SAFETY"}}"#) == .blocked(reason: "prompt blocked: SAFETY"))
        #expect(try outcome(#"{"candidates": [{"finishReason": "RECITATION"}]}"#) == .recitation)
        #expect(try outcome(#"{"candidates": [{"finishReason": "MAX_TOKENS"}]}"#) == .maxTokens)
        let thought = #"{"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgoAAAA="}, "thought": true}, {"text": "Draft", "thought": true}]}, "finishReason": "STOP"}]}"#
        #expect(try outcome(thought) == .noImage, "interim thought images are not the answer")
    }
}

actor Counter {
    private(set) var value = 0
    func increment() { value += 1 }
}

/// Polls until `condition` holds (at most 2 s): for state that another task changes.
func waitUntil(_ condition: @escaping @Sendable () async -> Bool) async throws {
    for _ in 0..<200 {
        if await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("condition never held")
}
