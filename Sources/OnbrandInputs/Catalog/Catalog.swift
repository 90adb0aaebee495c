import Foundation
import OnbrandXML

/// The catalog formats Onbrand reads.
public enum CatalogFormat: String, Sendable, Codable, CaseIterable {
    /// Google Merchant Center RSS 2.0 or Atom feed.
    case merchantFeed = "merchant-xml"
    /// Shopify `products.json` (a bare array or `{"products": [...]}`).
    case shopify = "shopify-json"
    /// schema.org `Product` / `ProductGroup` JSON-LD.
    case jsonLD = "schema-org-json-ld"
    /// Onbrand's own JSON: an array (or `{"products": [...]}`) of Merchant-named objects.
    case onbrandJSON = "onbrand-json"
    /// Onbrand's own JSON Lines: one product object a line, streamed.
    case onbrandJSONLines = "onbrand-jsonl"
}

/// Reads products from a catalog file one at a time, whatever its format.
///
/// XML feeds and JSON Lines stream in bounded memory; the JSON formats (Shopify, JSON-LD,
/// Onbrand JSON arrays) are single documents and are parsed whole, up to
/// ``CatalogReader/maximumJSONDocumentSize``: use JSON Lines for catalogs larger than that.
///
/// A product that cannot be used (no ID) is skipped and reported in ``diagnostics``; a malformed
/// file throws at the first malformed byte, naming line and column.
public final class CatalogReader {
    /// The largest single JSON document read whole.
    public static let maximumJSONDocumentSize = 256 << 20

    public let format: CatalogFormat
    public let displayName: String
    private let source: any ProductSource

    /// Opens `path`, telling the format by extension and, for JSON, by content.
    ///
    /// - Parameter displayName: How diagnostics name the file; the path by default.
    public init(contentsOf path: String, displayName: String? = nil) throws(DiagnosticError) {
        let name = displayName ?? path
        self.displayName = name
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw DiagnosticError(
                .error("catalog file not found", at: SourceLocation(file: name), hint: "check the path given to --catalog"))
        }
        let lowercased = path.lowercased()
        if lowercased.hasSuffix(".jsonl") || lowercased.hasSuffix(".ndjson") {
            format = .onbrandJSONLines
            source = try JSONLinesProductSource(path: path, displayName: name)
        } else if lowercased.hasSuffix(".json") || lowercased.hasSuffix(".jsonld") {
            let document = try JSONDocumentProductSource(path: path, displayName: name)
            format = document.format
            source = document
        } else if try Self.looksLikeJSON(path) {
            let document = try JSONDocumentProductSource(path: path, displayName: name)
            format = document.format
            source = document
        } else {
            format = .merchantFeed
            source = try MerchantFeedProductSource(path: path, displayName: name)
        }
    }

    private static func looksLikeJSON(_ path: String) throws(DiagnosticError) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 512)) ?? Data()
        let first = head.drop(while: { [0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }).first
        return first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
    }

    /// The next usable product, or `nil` at the end of the catalog.
    ///
    /// - Throws: ``DiagnosticError`` when the file itself is malformed; reading cannot go on.
    public func next() throws(DiagnosticError) -> Product? {
        try source.next()
    }

    /// Problems found so far with individual products (missing IDs, bad prices, unknown
    /// namespaces), with exact lines and columns.
    public var diagnostics: [Diagnostic] { source.resolvedDiagnostics() }

    /// Reads every product into memory: for small catalogs and tests.
    public func readAll() throws(DiagnosticError) -> [Product] {
        var products: [Product] = []
        while let product = try next() { products.append(product) }
        return products
    }
}

/// A format-specific product stream behind ``CatalogReader``.
protocol ProductSource: AnyObject {
    func next() throws(DiagnosticError) -> Product?
    func resolvedDiagnostics() -> [Diagnostic]
}

/// Caps the diagnostics kept for one catalog: a feed with a million bad rows needs the first
/// few hundred and a count, not a million lines.
struct DiagnosticBudget {
    static let limit = 500
    private(set) var kept: [Diagnostic] = []
    private(set) var dropped = 0

    mutating func append(_ diagnostic: Diagnostic) {
        if kept.count < Self.limit { kept.append(diagnostic) } else { dropped += 1 }
    }

    func all(file: String) -> [Diagnostic] {
        guard dropped > 0 else { return kept }
        return kept + [
            .warning(
                "\(dropped) more problems of the same kinds were not listed", at: SourceLocation(file: file),
                hint: "fix the ones above and validate again")
        ]
    }
}
