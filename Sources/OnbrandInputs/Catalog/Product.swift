/// One product, whatever catalog format it came from.
///
/// Field names follow Google Merchant Center's attributes, the most complete common vocabulary;
/// Shopify and schema.org fields are mapped onto them. Anything else the source held is kept in
/// ``extraAttributes``, never dropped.
public struct Product: Sendable, Hashable, Codable {
    /// The product's identifier as given: kept verbatim, even when unsafe as a file name
    /// (see ``isSafeAsFileName``).
    public var id: String
    public var title: String?
    public var description: String?
    public var link: String?
    public var imageLink: String?
    public var additionalImageLinks: [String] = []
    public var price: Price?
    public var salePrice: Price?
    public var availability: String?
    public var brand: String?
    public var gtin: String?
    public var mpn: String?
    public var condition: String?
    public var googleProductCategory: String?
    public var productType: String?
    public var color: String?
    public var size: String?
    public var material: String?
    public var pattern: String?
    public var gender: String?
    public var ageGroup: String?
    /// Variants share it (`item_group_id`, Shopify's product id, schema.org `productGroupID`).
    public var itemGroupID: String?
    /// `custom_label_0` … `custom_label_4` by index; shorter than 5 (or empty) when the last
    /// labels are absent, `nil` where one in between is. Read with ``customLabel(_:)``.
    public var customLabels: [String?] = []
    public var highlights: [String] = []
    public var details: [Detail] = []
    public var shipping: [Shipping] = []
    /// Locale of the product text, when the source says (`content_language` + `target_country`, `inLanguage`).
    public var language: String?
    /// Every attribute of the source that has no field above, in source order.
    public var extraAttributes: [Attribute] = []

    public init(id: String) {
        self.id = id
    }

    /// A name–value pair kept from the source. Nested values are flattened with dots (`shipping_label.x`).
    public struct Attribute: Sendable, Hashable, Codable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Merchant Center `product_detail`.
    public struct Detail: Sendable, Hashable, Codable {
        public var sectionName: String?
        public var attributeName: String
        public var attributeValue: String

        public init(sectionName: String?, attributeName: String, attributeValue: String) {
            self.sectionName = sectionName
            self.attributeName = attributeName
            self.attributeValue = attributeValue
        }
    }

    /// Merchant Center `shipping`.
    public struct Shipping: Sendable, Hashable, Codable {
        public var country: String?
        public var region: String?
        public var service: String?
        public var price: Price?

        public init(country: String? = nil, region: String? = nil, service: String? = nil, price: Price? = nil) {
            self.country = country
            self.region = region
            self.service = service
            self.price = price
        }
    }

    /// `custom_label_<index>`, or `nil`.
    public func customLabel(_ index: Int) -> String? {
        index < customLabels.count ? customLabels[index] : nil
    }

    /// Whether ``id`` can be used as a file name as it stands. Outputs always go through a
    /// sanitised name; this flags IDs that a careless consumer could turn into a path traversal.
    public var isSafeAsFileName: Bool { FileNameSafety.problem(with: id) == nil }
}

/// A price as Merchant Center writes it: an amount and an ISO 4217 currency (`159.00 USD`).
public struct Price: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The amount exactly as written in the source, so no rounding ever happens.
    public var amount: String
    /// ISO 4217 code, or `nil` when the source gave none.
    public var currency: String?

    public init(amount: String, currency: String?) {
        self.amount = amount
        self.currency = currency
    }

    /// Parses `159.00 USD`, `USD 159.00`, `159.00` or `1.299,00 EUR` (the amount is kept as written).
    public init?(parsing text: String, defaultCurrency: String? = nil) {
        // On the bytes in place: through `Substring.UTF8View` every step was a call, for the
        // two or three prices of every product of a feed.
        func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> (amount: Range<Int>, currency: Range<Int>?)? {
            func isCurrency(_ range: Range<Int>) -> Bool { range.count == 3 && bytes[range].allSatisfy { (0x41...0x5A).contains($0) } }
            func isAmount(_ range: Range<Int>) -> Bool {
                bytes[range].contains { (0x30...0x39).contains($0) }
                    && bytes[range].allSatisfy { (0x30...0x39).contains($0) || $0 == 0x2E || $0 == 0x2C || $0 == 0x2D }
            }
            guard let space = bytes.firstIndex(of: 0x20) else { return isAmount(0..<bytes.count) ? (0..<bytes.count, nil) : nil }
            var rest = space + 1
            while rest < bytes.count, bytes[rest] == 0x20 { rest += 1 }
            let (first, second) = (0..<space, rest..<bytes.count)
            guard !second.isEmpty, !bytes[second].contains(0x20) else { return nil }
            if isAmount(first), isCurrency(second) { return (first, second) }
            if isCurrency(first), isAmount(second) { return (second, first) }
            return nil
        }
        let parsed = text.utf8.withContiguousStorageIfAvailable(parse) ?? Array(text.utf8).withUnsafeBufferPointer(parse)
        guard let (amount, currency) = parsed else { return nil }
        guard let currency else {
            self.init(amount: text, currency: defaultCurrency)
            return
        }
        // Both parts are ASCII (digits and signs, three capitals).
        func part(_ range: Range<Int>) -> String {
            let utf8 = text.utf8
            return String(utf8[utf8.index(utf8.startIndex, offsetBy: range.lowerBound)..<utf8.index(utf8.startIndex, offsetBy: range.upperBound)])!
        }
        self.init(amount: part(amount), currency: part(currency))
    }

    public var description: String { currency.map { "\(amount) \($0)" } ?? amount }
}

/// Why a string is unsafe as a file name, if it is.
public enum FileNameSafety {
    /// Names Windows reserves whatever the extension (outputs must travel).
    static let reservedNames: Set<String> = [
        "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
        "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    ]

    /// A sentence saying what makes `name` unsafe, or `nil` when it is safe as it stands.
    public static func problem(with name: String) -> String? {
        // Fast path: letters, digits, '-' and '_' only, not too long: safe (reserved names aside).
        let utf8 = name.utf8
        if !utf8.isEmpty, utf8.count <= 200, utf8.count > 4 || !name.allUTF8Bytes({ (0x41...0x5A).contains($0 & 0xDF) || (0x30...0x39).contains($0) }),
            name.allUTF8Bytes({ byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            })
        {
            return nil
        }
        if name.isEmpty { return "it is empty" }
        if name == "." || name == ".." { return "it names a directory" }
        if name.contains("/") || name.contains("\\") { return "it contains a path separator" }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "it contains a control character"
        }
        if name.hasPrefix(".") { return "it starts with a dot (a hidden file)" }
        if name.utf8.count > 200 { return "it is longer than 200 bytes" }
        let stem = name.split(separator: ".", maxSplits: 1).first.map(String.init) ?? name
        if reservedNames.contains(stem.uppercased()) { return "it is a reserved device name on Windows" }
        if name.contains(where: { ":*?\"<>|".contains($0) }) { return "it contains a character Windows forbids in file names" }
        return nil
    }
}
