/// An element's name, compared by namespace URI and local name, never by prefix.
public struct XMLName: Sendable, Hashable, CustomStringConvertible {
    /// The namespace URI, or `nil` for an element in no namespace.
    public var namespaceURI: String?
    public var localName: String

    public init(_ localName: String, namespace namespaceURI: String? = nil) {
        self.localName = localName
        self.namespaceURI = namespaceURI
    }

    public var description: String {
        namespaceURI.map { "{\($0)}\(localName)" } ?? localName
    }
}

/// Namespace URIs that Onbrand's inputs use.
public enum XMLNamespace {
    /// Google Merchant Center (`g:`).
    public static let googleBase = "http://base.google.com/ns/1.0"
    /// Atom 1.0.
    public static let atom = "http://www.w3.org/2005/Atom"
    /// Atom 0.3, used by legacy Google Base feeds.
    public static let atom03 = "http://purl.org/atom/ns#"
}

/// An attribute of an ``XMLElement``.
public struct XMLAttribute: Sendable, Hashable {
    public var name: XMLName
    public var value: String

    public init(name: XMLName, value: String) {
        self.name = name
        self.value = value
    }
}

/// One element of a parsed document, as a plain value: no libxml2 pointer survives the parse.
public struct XMLElement: Sendable, Hashable {
    /// A child of an element: another element, or a run of text (CDATA included).
    public enum Child: Sendable, Hashable {
        case element(XMLElement)
        case text(String)
    }

    public var name: XMLName
    /// The name as written, prefix included, for messages (`g:price`).
    public var qualifiedName: String
    public var attributes: [XMLAttribute]
    public var children: [Child]
    /// Where the start tag is (1-based). `column` is 0 where it has not been resolved.
    public var line: Int
    public var column: Int

    public init(
        name: XMLName,
        qualifiedName: String? = nil,
        attributes: [XMLAttribute] = [],
        children: [Child] = [],
        line: Int = 0,
        column: Int = 0
    ) {
        self.name = name
        self.qualifiedName = qualifiedName ?? name.localName
        self.attributes = attributes
        self.children = children
        self.line = line
        self.column = column
    }

    public var localName: String { name.localName }
    public var namespaceURI: String? { name.namespaceURI }

    /// The child elements, in document order.
    public var elements: [XMLElement] {
        children.compactMap { if case .element(let element) = $0 { element } else { nil } }
    }

    /// All text directly inside this element, concatenated (child elements' text excluded).
    public var text: String {
        var result = ""
        for case .text(let text) in children { result += text }
        return result
    }

    /// ``text`` with leading and trailing white space removed; `nil` when nothing is left.
    public var trimmedText: String? {
        let trimmed = text.trimmingXMLWhitespace()
        return trimmed.isEmpty ? nil : trimmed
    }

    /// The value of the attribute with this local name and namespace (no namespace by default).
    public func attribute(_ localName: String, namespace: String? = nil) -> String? {
        attributes.first { $0.name.localName == localName && $0.name.namespaceURI == namespace }?.value
    }

    /// The first child element with this local name in this namespace.
    public func firstElement(_ localName: String, namespace: String? = nil) -> XMLElement? {
        for case .element(let element) in children
        where element.name.localName == localName && element.name.namespaceURI == namespace {
            return element
        }
        return nil
    }

    /// Every child element with this local name in this namespace.
    public func elements(_ localName: String, namespace: String? = nil) -> [XMLElement] {
        elements.filter { $0.name.localName == localName && $0.name.namespaceURI == namespace }
    }
}

extension String {
    /// Trims the four XML white-space characters (space, tab, CR, LF) and, for text from
    /// real feeds, any other Unicode white space at the ends.
    public consuming func trimmingXMLWhitespace() -> String {
        // Fast path, on the bytes in place: nothing to trim when neither end can be white space.
        // (`utf8.first` and `utf8.last` are calls; `last` alone was 4 % of reading a feed.)
        let untouched = utf8.withContiguousStorageIfAvailable { bytes in
            guard let first = bytes.first, let last = bytes.last else { return true }
            return !Self.mayStartWhitespace(first) && !Self.mayEndWhitespace(last)
        }
        if untouched == true { return self }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        // Nothing trimmed after all (text that starts with a byte of a CJK character, say): the
        // string itself, not a copy of it.
        if first == scalars.startIndex, scalars.index(after: last) == scalars.endIndex { return self }
        return String(scalars[first...last])
    }

    /// Whether a scalar beginning with this byte may be White_Space: ASCII controls and space,
    /// or the lead byte of U+0085, U+00A0 (C2), U+1680 (E1), U+2000–U+205F (E2) or U+3000 (E3).
    @inline(__always)
    private static func mayStartWhitespace(_ byte: UInt8) -> Bool {
        byte <= 0x20 || byte == 0xC2 || (0xE1...0xE3).contains(byte)
    }

    /// Whether a scalar ending with this byte may be White_Space: ASCII controls and space, or the
    /// last byte of one of those scalars (80–8A, A0, A8, A9, AF, 9F).
    @inline(__always)
    private static func mayEndWhitespace(_ byte: UInt8) -> Bool {
        byte <= 0x20 || (0x80...0x8A).contains(byte) || byte == 0xA0 || byte == 0xA8 || byte == 0xA9 || byte == 0xAF || byte == 0x9F
    }
}

extension String {
    /// A string of bytes already known to be valid UTF-8, not checked again (but in debug builds).
    ///
    /// For the element text of ``XMLRecordReader``, valid by construction: libxml2 decodes and
    /// checks text itself (a malformed byte stops the parse with an error, before any text holding
    /// it is delivered), and the record reader checks CDATA, where libxml2's push parser lets
    /// overlong forms through. Checking again went a byte at a time once a text left ASCII. The
    /// ASCII flag is still worked out: a string without it compares and hashes six times slower.
    package init(knownValidUTF8 bytes: UnsafeBufferPointer<UInt8>) {
        assert(String(validating: bytes, as: UTF8.self) != nil, "valid UTF-8")
        var span = unsafe UTF8Span(unchecked: bytes.span)
        _ = span.checkForASCII()
        self = String(copying: span)
    }
}
