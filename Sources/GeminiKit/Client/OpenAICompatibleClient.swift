import Foundation

/// Image generation through an OpenAI-compatible gateway (`/images/generations`, Bearer auth),
/// behind the same ``ImageGenerating`` protocol as the native client.
///
/// Limits, stated: the OpenAI surface carries a prompt and nothing else, so there is no Google
/// Search grounding, no `imageConfig` (ratio and size are the gateway's), no reference images,
/// no usage by modality and no TEXT part: alt text comes from the template's fallback (or a
/// describe pass). The request's text parts, system instruction first, become the prompt.
public struct OpenAICompatibleClient: ImageGenerating {
    public struct Configuration: Sendable {
        public var apiKey: String
        /// Up to and including the version: `https://gateway.example/v1`,
        /// `https://generativelanguage.googleapis.com/v1beta/openai`.
        public var baseURL: String
        public var timeout: Duration
        public var maximumResponseSize: Int
        public var retry: RetryPolicy

        public init(apiKey: String, baseURL: String, timeout: Duration = .seconds(120), maximumResponseSize: Int = 100 << 20, retry: RetryPolicy = RetryPolicy()) {
            self.apiKey = apiKey
            self.baseURL = baseURL
            self.timeout = timeout
            self.maximumResponseSize = maximumResponseSize
            self.retry = retry
        }
    }

    public let configuration: Configuration
    private let transport: any Transport
    private let limiter: RateLimiter<ContinuousClock>?

    public init(configuration: Configuration, transport: any Transport = AsyncHTTPClientTransport(), limiter: RateLimiter<ContinuousClock>? = nil) {
        self.configuration = configuration
        self.transport = transport
        self.limiter = limiter
    }

    public func inputTokenLimit(model: String) async -> Int? { nil }

    public func generateContent(model: String, request: GenerateContentRequest) async throws(GeminiError) -> GenerateContentResponse {
        struct Body: Encodable {
            var model: String
            var prompt: String
            var n = 1
            var response_format = "b64_json"
        }
        struct Answer: Decodable {
            struct Item: Decodable { var b64_json: String? }
            var data: [Item]
        }
        let prompt = ((request.systemInstruction?.parts ?? []) + request.contents.flatMap(\.parts)).compactMap(\.text).joined(separator: "\n\n")
        let body: Data
        do { body = try JSONEncoder().encode(Body(model: model, prompt: prompt)) } catch {
            throw GeminiError(code: .invalidRequest, status: nil, message: "\(error)", model: model)
        }
        let url = configuration.baseURL.hasSuffix("/") ? configuration.baseURL + "images/generations" : configuration.baseURL + "/images/generations"
        let message = HTTPRequestMessage(
            method: "POST", url: url,
            headers: [("Authorization", "Bearer \(configuration.apiKey)"), ("Content-Type", "application/json")], body: body)
        var attempt = 1
        while true {
            let failure: GeminiError
            do {
                let response = try await send(message)
                if response.status == 200 {
                    guard let answer = try? JSONDecoder().decode(Answer.self, from: response.body),
                        let image = answer.data.first?.b64_json, let bytes = Data(base64Encoded: image)
                    else {
                        throw GeminiError(code: .malformedResponse, status: 200, message: "no b64_json image in the answer", model: model, attempts: attempt)
                    }
                    let mime = bytes.starts(with: [0xFF, 0xD8, 0xFF]) ? "image/jpeg" : "image/png"
                    return GenerateContentResponse(
                        candidates: [
                            Candidate(
                                content: ResponseContent(role: "model", parts: [Part(inlineData: .init(mimeType: mime, data: image))]),
                                finishReason: .stop, index: 0)
                        ], modelVersion: model)
                }
                failure = GeminiError.from(
                    status: response.status, body: response.body, model: model, attempts: attempt, retryAfterHeader: response.header("Retry-After"))
            } catch let error as GeminiError {
                failure = error
            } catch TransportError.timedOut {
                failure = GeminiError(code: .timedOut, status: nil, message: "timed out", model: model, attempts: attempt)
            } catch {
                failure = GeminiError(code: .transport, status: nil, message: "\(error)", model: model, attempts: attempt)
            }
            let retryable: Bool = {
                switch failure.code {
                case .capacity, .timedOut, .transport, .malformedResponse: true
                case .quotaExhausted(_, _, let isDaily): !isDaily
                default: false
                }
            }()
            guard retryable, attempt < configuration.retry.maximumAttempts else { throw failure }
            attempt += 1
            let serverDelay: Duration? = if case .quotaExhausted(_, let delay, _) = failure.code { delay } else { nil }
            do { try await Task.sleep(for: configuration.retry.delay(beforeAttempt: attempt, serverDelay: serverDelay, random: Double.random(in: 0..<1))) } catch {
                throw GeminiError(code: .transport, status: nil, message: "cancelled", model: model, attempts: attempt - 1)
            }
        }
    }

    private func send(_ message: HTTPRequestMessage) async throws -> HTTPResponseMessage {
        if let limiter {
            return try await limiter.withPermit { [transport, configuration] in
                try await transport.send(message, timeout: configuration.timeout, maximumResponseSize: configuration.maximumResponseSize)
            }
        }
        return try await transport.send(message, timeout: configuration.timeout, maximumResponseSize: configuration.maximumResponseSize)
    }
}
