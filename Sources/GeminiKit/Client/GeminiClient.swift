public import Foundation

/// The one way Onbrand talks to the Gemini API (or the emulator, or a gateway).
///
/// Every call goes through the shared ``RateLimiter``, retries per ``RetryPolicy``, and has a
/// deadline; bodies are collected up to a byte limit. The API key travels in `x-goog-api-key`
/// only and is never logged or put in an error.
public struct GeminiClient: Sendable {
    public struct Configuration: Sendable {
        public var apiKey: String
        /// `https://generativelanguage.googleapis.com`, a gateway, or the emulator.
        public var baseURL: String
        public var apiVersion: String
        /// Per attempt.
        public var timeout: Duration
        public var maximumResponseSize: Int
        public var retry: RetryPolicy

        public init(
            apiKey: String, baseURL: String = GeminiClient.defaultBaseURL, apiVersion: String = "v1beta", timeout: Duration = .seconds(120),
            maximumResponseSize: Int = 100 << 20, retry: RetryPolicy = RetryPolicy()
        ) {
            self.apiKey = apiKey
            self.baseURL = baseURL
            self.apiVersion = apiVersion
            self.timeout = timeout
            self.maximumResponseSize = maximumResponseSize
            self.retry = retry
        }

        /// The key from `GEMINI_API_KEY`, else `GOOGLE_API_KEY`; `nil` when neither is set.
        public static func apiKeyFromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
            for name in ["GEMINI_API_KEY", "GOOGLE_API_KEY"] {
                if let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty { return value }
            }
            return nil
        }
    }

    public static let defaultBaseURL = "https://generativelanguage.googleapis.com"

    public let configuration: Configuration
    private let transport: any Transport
    private let limiter: RateLimiter<ContinuousClock>?
    private let random: @Sendable () -> Double

    public init(
        configuration: Configuration, transport: any Transport = AsyncHTTPClientTransport(), limiter: RateLimiter<ContinuousClock>? = nil,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.configuration = configuration
        self.transport = transport
        self.limiter = limiter
        self.random = random
    }

    // MARK: - Calls

    public func generateContent(model: String, request: GenerateContentRequest) async throws(GeminiError) -> GenerateContentResponse {
        let body: Data
        do { body = try WireCoding.encoder().encode(request) } catch {
            throw GeminiError(code: .invalidRequest, status: nil, message: "the request could not be encoded: \(error)", model: model)
        }
        return try await call(model: model, method: "POST", path: "models/\(Self.modelPath(model)):generateContent", body: body) {
            try WireCoding.decoder().decode(GenerateContentResponse.self, from: $0)
        }
    }

    /// Counts the whole request (system instruction and tools included), in the
    /// `generateContentRequest` form the SDK does not send.
    public func countTokens(model: String, request: GenerateContentRequest) async throws(GeminiError) -> Int {
        struct Body: Encodable {
            struct Inner: Encodable {
                var model: String
                var request: GenerateContentRequest
                func encode(to encoder: any Encoder) throws {
                    try request.encode(to: encoder)
                    var container = encoder.container(keyedBy: Key.self)
                    try container.encode(model, forKey: .model)
                }
                enum Key: String, CodingKey { case model }
            }
            var generateContentRequest: Inner
        }
        struct Answer: Decodable { var totalTokens: Int? }
        let path = "models/\(Self.modelPath(model))"
        let body: Data
        do { body = try WireCoding.encoder().encode(Body(generateContentRequest: .init(model: path, request: request))) } catch {
            throw GeminiError(code: .invalidRequest, status: nil, message: "\(error)", model: model)
        }
        let data = try await call(model: model, method: "POST", path: "\(path):countTokens", body: body)
        return try decode(Answer.self, data, model: model).totalTokens ?? 0
    }

    /// The model's resource; `inputTokenLimit` is the limit to plan against.
    public func model(_ id: String) async throws(GeminiError) -> ModelResource {
        try decode(ModelResource.self, try await call(model: id, method: "GET", path: "models/\(Self.modelPath(id))", body: nil), model: id)
    }

    public struct ModelResource: Sendable, Codable, Hashable {
        public var name: String
        public var displayName: String?
        public var inputTokenLimit: Int?
        public var outputTokenLimit: Int?
        public var supportedGenerationMethods: [String]?
    }

    /// `gemini-x`, `models/gemini-x` → `gemini-x`; refuses names that could escape the path.
    static func modelPath(_ model: String) -> String {
        let name = model.hasPrefix("models/") ? String(model.dropFirst(7)) : model
        return name.contains("..") || name.contains("?") || name.contains("&") || name.contains("/") ? "invalid-model-name" : name
    }

    // MARK: - Retrying

    private func call(model: String, method: String, path: String, body: Data?) async throws(GeminiError) -> Data {
        try await call(model: model, method: method, path: path, body: body) { $0 }
    }

    /// Sends with retries; `parse` runs inside the loop, so an answer cut short is retried too.
    private func call<T>(
        model: String, method: String, path: String, body: Data?, parse: (Data) throws -> T
    ) async throws(GeminiError) -> T {
        let url = "\(configuration.baseURL.trimmingSuffix("/"))/\(configuration.apiVersion)/\(path)"
        var headers = [(name: "x-goog-api-key", value: configuration.apiKey)]
        if body != nil { headers.append((name: "Content-Type", value: "application/json")) }
        let request = HTTPRequestMessage(method: method, url: url, headers: headers, body: body)
        var attempt = 1
        while true {
            let failure: GeminiError
            do {
                let response: HTTPResponseMessage
                if let limiter {
                    response = try await limiter.withPermit { [transport, configuration] in
                        try await transport.send(request, timeout: configuration.timeout, maximumResponseSize: configuration.maximumResponseSize)
                    }
                } else {
                    response = try await transport.send(request, timeout: configuration.timeout, maximumResponseSize: configuration.maximumResponseSize)
                }
                if response.status == 200 {
                    do { return try parse(response.body) } catch {
                        throw GeminiError(code: .malformedResponse, status: 200, message: "\(error)", model: model, attempts: attempt)
                    }
                }
                failure = GeminiError.from(
                    status: response.status, body: response.body, model: model, attempts: attempt, retryAfterHeader: response.header("Retry-After"))
            } catch let error as GeminiError {
                failure = error
            } catch let error as TransportError {
                switch error {
                case .timedOut: failure = GeminiError(code: .timedOut, status: nil, message: "timed out", model: model, attempts: attempt)
                case .connection(let text): failure = GeminiError(code: .transport, status: nil, message: text, model: model, attempts: attempt)
                case .responseTooLarge(let limit):
                    failure = GeminiError(code: .responseTooLarge, status: nil, message: "over \(limit) bytes", model: model, attempts: attempt)
                }
            } catch {
                if error is CancellationError {
                    throw GeminiError(code: .transport, status: nil, message: "cancelled", model: model, attempts: attempt)
                }
                failure = GeminiError(code: .transport, status: nil, message: "\(error)", model: model, attempts: attempt)
            }
            guard shouldRetry(failure), attempt < configuration.retry.maximumAttempts else { throw failure }
            var serverDelay: Duration?
            if case .quotaExhausted(_, let retryAfter, _) = failure.code { serverDelay = retryAfter }
            attempt += 1
            let delay = configuration.retry.delay(beforeAttempt: attempt, serverDelay: serverDelay, random: random())
            do { try await Task.sleep(for: delay) } catch {
                throw GeminiError(code: .transport, status: nil, message: "cancelled", model: model, attempts: attempt - 1)
            }
        }
    }

    /// Whether another attempt may succeed: capacity, timeouts, broken connections, per-minute
    /// quotas and the retryable statuses; never a bad key, a wrong request or a daily quota.
    private func shouldRetry(_ failure: GeminiError) -> Bool {
        switch failure.code {
        case .quotaExhausted(_, _, let isDaily): !isDaily
        // A 200 whose body does not parse was cut short on the way: the next attempt may arrive whole.
        case .capacity, .timedOut, .transport, .malformedResponse: true
        case .http: failure.status.map { configuration.retry.retryableStatuses.contains($0) } ?? false
        case .badAPIKey, .modelNotFound, .requestTooLarge, .invalidRequest, .responseTooLarge: false
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ data: Data, model: String) throws(GeminiError) -> T {
        do { return try WireCoding.decoder().decode(type, from: data) } catch {
            throw GeminiError(code: .malformedResponse, status: 200, message: "\(error)", model: model)
        }
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
