import Foundation

/// Image generation through an OpenAI-compatible gateway (`/images/generations`, Bearer auth),
/// behind the same ``ImageGenerating`` protocol as the native client, and text from its
/// `/chat/completions` (``chatCompletion(model:system:text:images:maxTokens:)``).
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
        let message = HTTPRequestMessage(
            method: "POST", url: endpoint("images/generations"),
            headers: [("Authorization", "Bearer \(configuration.apiKey)"), ("Content-Type", "application/json")], body: body)
        return try await sender.send(message, model: model) { response in
            guard let answer = try? JSONDecoder().decode(Answer.self, from: response.body),
                let image = answer.data.first?.b64_json, Data(base64Encoded: image) != nil
            else {
                throw GeminiError(code: .malformedResponse, status: 200, message: "no b64_json image in the answer", model: model)
            }
            let mime = image.hasPrefix("/9j/") ? "image/jpeg" : "image/png"
            return GenerateContentResponse(
                candidates: [
                    Candidate(
                        content: ResponseContent(role: "model", parts: [Part(inlineData: .init(mimeType: mime, data: image))]),
                        finishReason: .stop, index: 0)
                ], modelVersion: model)
        }
    }

    /// One message to a text (and vision) model through `chat/completions`: the text of the
    /// first choice. Images travel as `data:` URLs. Used to describe an image made by an
    /// image-only model, and to repair alt text.
    public func chatCompletion(model: String, system: String?, text: String, images: [Part.Blob] = [], maxTokens: Int = 300) async throws(GeminiError) -> String {
        var messages: [[String: Any]] = []
        if let system { messages.append(["role": "system", "content": system]) }
        var content: [[String: Any]] = [["type": "text", "text": text]]
        for image in images {
            content.append(["type": "image_url", "image_url": ["url": "data:\(image.mimeType);base64,\(image.data)"]])
        }
        messages.append(["role": "user", "content": content])
        let object: [String: Any] = ["model": model, "messages": messages, "max_tokens": maxTokens]
        let body: Data
        do { body = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) } catch {
            throw GeminiError(code: .invalidRequest, status: nil, message: "\(error)", model: model)
        }
        struct Answer: Decodable {
            struct Choice: Decodable {
                struct Message: Decodable { var content: String? }
                var message: Message
            }
            var choices: [Choice]
        }
        let message = HTTPRequestMessage(
            method: "POST", url: endpoint("chat/completions"),
            headers: [("Authorization", "Bearer \(configuration.apiKey)"), ("Content-Type", "application/json")], body: body)
        return try await sender.send(message, model: model) { response in
            guard let answer = try? JSONDecoder().decode(Answer.self, from: response.body), let text = answer.choices.first?.message.content else {
                throw GeminiError(code: .malformedResponse, status: 200, message: "no choices[0].message.content in the answer", model: model)
            }
            return text
        }
    }

    private func endpoint(_ path: String) -> String {
        configuration.baseURL.hasSuffix("/") ? configuration.baseURL + path : configuration.baseURL + "/" + path
    }

    private var sender: RetryingSender {
        RetryingSender(
            transport: transport, limiter: limiter, timeout: configuration.timeout, maximumResponseSize: configuration.maximumResponseSize,
            retry: configuration.retry, random: { Double.random(in: 0..<1) })
    }
}
