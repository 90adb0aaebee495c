import Foundation

/// A failed call, classified by what the user should do about it.
///
/// Its description is one sentence naming the model and the cause, and what to do next.
public struct GeminiError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// The key is missing, wrong or not allowed: set `GEMINI_API_KEY`.
        case badAPIKey
        /// A Files API file the request names is gone (files expire after 48 hours) or not yours.
        case fileNotAvailable
        /// A quota ran out; `retryAfter` is what the server asked, `isDaily` when waiting minutes will not help.
        case quotaExhausted(quotaID: String?, retryAfter: Duration?, isDaily: Bool)
        /// The service is overloaded or failing (500, 503): try later.
        case capacity
        /// No such model (or a preview id that was retired).
        case modelNotFound
        /// The input is over the model's limit.
        case requestTooLarge
        /// The request is wrong in another way (bad ratio, unknown field).
        case invalidRequest
        /// The call took longer than its deadline.
        case timedOut
        /// The connection failed or broke.
        case transport
        /// The answer was larger than allowed.
        case responseTooLarge
        /// The answer was not the JSON expected.
        case malformedResponse
        /// Any other HTTP failure.
        case http
    }

    public var code: Code
    /// HTTP status, when there was one.
    public var status: Int?
    /// The server's message, or what went wrong.
    public var message: String
    public var model: String
    /// How many attempts were made before giving up.
    public var attempts: Int

    public init(code: Code, status: Int?, message: String, model: String, attempts: Int = 1) {
        self.code = code
        self.status = status
        self.message = message
        self.model = model
        self.attempts = attempts
    }

    public var isRetryable: Bool {
        switch code {
        case .capacity, .timedOut, .transport: true
        case .quotaExhausted(_, _, let isDaily): !isDaily
        case .http: status.map { [408, 502, 504].contains($0) } ?? false
        default: false
        }
    }

    public var description: String {
        let prefix = "\(model)\(status.map { ": HTTP \($0)" } ?? ""): "
        switch code {
        case .fileNotAvailable:
            return prefix + "\(message) Uploaded files expire after 48 hours; upload it again."
        case .badAPIKey:
            return prefix + "the API key was refused (\(message)); set GEMINI_API_KEY (or GOOGLE_API_KEY) to a valid key"
        case .quotaExhausted(let quota, let retryAfter, let isDaily):
            let which = quota.map { " (\($0))" } ?? ""
            let when = isDaily ? "the daily quota is spent; try again tomorrow or raise the quota" : retryAfter.map { "retry after \($0)" } ?? "retry later"
            return prefix + "quota exhausted\(which): \(when)"
        case .capacity:
            return prefix + "the service is overloaded or failing (\(message)); retried \(attempts) times, try again later"
        case .modelNotFound:
            return prefix + "\(message) If a -preview model was retired, use its GA id (e.g. gemini-3.1-flash-image)."
        case .requestTooLarge:
            return prefix + "\(message) Lower the budget (onbrand plan --budget) or drop optional sections."
        case .invalidRequest:
            return prefix + "the request was rejected: \(message)"
        case .timedOut:
            return prefix + "no answer within the deadline after \(attempts) attempts; 4K images can take longer than 20 s, raise the timeout"
        case .transport:
            return prefix + "the connection failed (\(message)); check the base URL and the network"
        case .responseTooLarge:
            return prefix + "the answer was larger than allowed (\(message))"
        case .malformedResponse:
            return prefix + "the answer was not a Gemini response (\(message))"
        case .http:
            return prefix + message
        }
    }

    /// Classifies an error answer from its status and envelope.
    static func from(status: Int, body: Data, model: String, attempts: Int, retryAfterHeader: String?) -> GeminiError {
        let envelope = APIErrorEnvelope.decodeLeniently(body)
        let message = envelope?.error.message ?? String(decoding: body.prefix(500), as: UTF8.self)
        let statusName = envelope?.error.status ?? ""
        let reason = envelope?.error.details?.compactMap(\.reason).first
        let code: Code
        switch status {
        case 400 where reason == "API_KEY_INVALID" || message.contains("API key not valid"):
            code = .badAPIKey
        case 403 where message.contains("permission to access the File"):
            code = .fileNotAvailable
        case 401, 403:
            code = .badAPIKey
        case 404:
            code = .modelNotFound
        case 413:
            code = .requestTooLarge
        case 400 where message.contains("input token count") || message.contains("exceeds the maximum"):
            code = .requestTooLarge
        case 400:
            code = .invalidRequest
        case 429:
            let quotaID = envelope?.error.details?.compactMap(\.violations).flatMap { $0 }.compactMap(\.quotaId).first
            let serverDelay = envelope?.retryDelay.map { Duration.milliseconds(Int64($0 * 1000)) }
                ?? retryAfterHeader.flatMap(Double.init).map { Duration.milliseconds(Int64($0 * 1000)) }
            let isDaily = quotaID?.lowercased().contains("perday") ?? false
            code = .quotaExhausted(quotaID: quotaID, retryAfter: serverDelay, isDaily: isDaily)
        case 500, 503:
            code = .capacity
        case 504, 408:
            code = statusName == "DEADLINE_EXCEEDED" || status == 504 ? .timedOut : .http
        default:
            code = .http
        }
        return GeminiError(code: code, status: status, message: message, model: model, attempts: attempts)
    }
}

extension APIErrorEnvelope {
    /// The envelope, also when wrapped in a one-element array (streams, the OpenAI surface).
    static func decodeLeniently(_ body: Data) -> APIErrorEnvelope? {
        let decoder = WireCoding.decoder()
        if let envelope = try? decoder.decode(APIErrorEnvelope.self, from: body) { return envelope }
        return (try? decoder.decode([APIErrorEnvelope].self, from: body))?.first
    }
}
