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
            try GenerateContentResponse.decodeSplittingImages($0)
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

    func call(model: String, method: String, path: String, body: Data?) async throws(GeminiError) -> Data {
        try await call(model: model, method: method, path: path, body: body) { $0 }
    }

    /// Sends with retries; `parse` runs inside the loop, so an answer cut short is retried too.
    func call<T>(
        model: String, method: String, path: String, body: Data?, retrying: Bool = true, parse: (Data) throws -> T
    ) async throws(GeminiError) -> T {
        let url = "\(configuration.baseURL.trimmingSuffix("/"))/\(configuration.apiVersion)/\(path)"
        var headers = [(name: "x-goog-api-key", value: configuration.apiKey)]
        if body != nil { headers.append((name: "Content-Type", value: "application/json")) }
        let request = HTTPRequestMessage(method: method, url: url, headers: headers, body: body)
        return try await send(request, model: model, retrying: retrying) { try parse($0.body) }
    }

    /// Sends one request through the limiter, retrying per the policy unless `retrying` is off
    /// (for calls that are not idempotent, such as creating a batch).
    func send<T>(
        _ request: HTTPRequestMessage, model: String, retrying: Bool = true, parse: (HTTPResponseMessage) throws -> T
    ) async throws(GeminiError) -> T {
        let sender = RetryingSender(
            transport: transport, limiter: limiter, timeout: configuration.timeout, maximumResponseSize: configuration.maximumResponseSize,
            retry: configuration.retry, random: random)
        return try await sender.send(request, model: model, retrying: retrying, parse: parse)
    }

    func decode<T: Decodable>(_ type: T.Type, _ data: Data, model: String) throws(GeminiError) -> T {
        do { return try WireCoding.decoder().decode(type, from: data) } catch {
            throw GeminiError(code: .malformedResponse, status: 200, message: "\(error)", model: model)
        }
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
