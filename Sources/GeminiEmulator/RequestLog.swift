import Foundation

/// Every request the emulator answered, for tests to assert on (a unit sent twice, a key leaked).
public actor RequestLog {
    public struct Entry: Sendable, Hashable {
        public var method: String
        public var path: String
        public var model: String?
        public var status: Int
        public var fault: Fault?
        /// SHA-free, cheap identity of the body: its length and a 64-bit hash.
        public var bodyDigest: String
        /// The request's text parts, joined (for finding which product a call was for).
        public var text: String
    }

    public private(set) var entries: [Entry] = []

    public init() {}

    func append(_ entry: Entry) { entries.append(entry) }

    /// Entries for `generateContent` that answered 200.
    public var successfulGenerations: [Entry] {
        entries.filter { $0.path.hasSuffix(":generateContent") && $0.status == 200 }
    }
}
