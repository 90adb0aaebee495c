/// The body of every non-200 answer: `{"error": {code, message, status, details[]}}` (spec §3.1).
/// On the OpenAI-compatible surface it often comes wrapped in a one-element array.
public struct APIErrorEnvelope: Sendable, Hashable, Codable {
    public var error: Status

    public init(error: Status) {
        self.error = error
    }

    public struct Status: Sendable, Hashable, Codable {
        public var code: Int
        public var message: String
        /// `INVALID_ARGUMENT`, `RESOURCE_EXHAUSTED`, `NOT_FOUND`, …
        public var status: String?
        public var details: [Detail]?

        public init(code: Int, message: String, status: String?, details: [Detail]? = nil) {
            self.code = code
            self.message = message
            self.status = status
            self.details = details
        }
    }

    /// One `google.rpc` detail; which fields are set depends on `@type`.
    public struct Detail: Sendable, Hashable, Codable {
        public var type: String
        /// `RetryInfo`: how long to wait, as a protobuf duration (`"15s"`).
        public var retryDelay: String?
        /// `QuotaFailure`: which quota ran out.
        public var violations: [QuotaViolation]?
        /// `BadRequest`: which fields were wrong.
        public var fieldViolations: [FieldViolation]?
        /// `ErrorInfo`.
        public var reason: String?
        public var domain: String?
        public var metadata: [String: String]?
        /// `Help`.
        public var links: [Link]?

        enum CodingKeys: String, CodingKey {
            case type = "@type"
            case retryDelay, violations, fieldViolations, reason, domain, metadata, links
        }

        public init(type: String, retryDelay: String? = nil, violations: [QuotaViolation]? = nil, fieldViolations: [FieldViolation]? = nil) {
            self.type = type
            self.retryDelay = retryDelay
            self.violations = violations
            self.fieldViolations = fieldViolations
        }

        public struct QuotaViolation: Sendable, Hashable, Codable {
            public var quotaMetric: String?
            public var quotaId: String?
            public var quotaDimensions: [String: String]?
            public var quotaValue: String?
            public var subject: String?
            public var description: String?
        }

        public struct FieldViolation: Sendable, Hashable, Codable {
            public var field: String?
            public var description: String?
        }

        public struct Link: Sendable, Hashable, Codable {
            public var description: String?
            public var url: String?
        }
    }

    /// The `RetryInfo` delay in seconds, if the server asked for one.
    public var retryDelay: Double? {
        error.details?.compactMap(\.retryDelay).first.flatMap(Duration.seconds(fromProtobuf:))
    }
}

extension Duration {
    /// `"15s"`, `"3.5s"` → seconds.
    public static func seconds(fromProtobuf text: String) -> Double? {
        guard text.hasSuffix("s") else { return nil }
        return Double(text.dropLast())
    }
}
