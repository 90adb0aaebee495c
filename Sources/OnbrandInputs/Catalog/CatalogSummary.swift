/// What a catalog holds, gathered while streaming it: counts, fields, variant groups, languages.
///
/// Memory grows with the number of distinct variant groups and IDs (8 bytes an ID, for duplicate
/// detection), never with the size of the products themselves.
public struct CatalogSummary: Sendable, Codable {
    public var format: CatalogFormat
    public var products = 0
    /// Merchant attribute name → how many products have it.
    public var fields: [String: Int] = [:]
    public var variantGroups = 0
    public var productsInVariantGroups = 0
    public var largestVariantGroup = 0
    /// Declared content languages → products.
    public var languages: [String: Int] = [:]
    /// Writing systems found in titles and descriptions → products.
    public var scripts: [String: Int] = [:]
    /// IDs seen more than once (the first few).
    public var duplicateIDs: [String] = []
    public var duplicateIDCount = 0
    /// IDs unsafe as file names.
    public var unsafeIDCount = 0

    private var groupSizes: [String: Int] = [:]
    private var seenIDs: Set<Int> = []

    enum CodingKeys: String, CodingKey {
        case format, products, fields, variantGroups, productsInVariantGroups, largestVariantGroup, languages, scripts
        case duplicateIDs, duplicateIDCount, unsafeIDCount
    }

    public init(format: CatalogFormat) {
        self.format = format
    }

    public mutating func add(_ product: Product) {
        products += 1
        for name in Self.presentFields(product) { fields[name, default: 0] += 1 }
        if let group = product.itemGroupID {
            let size = groupSizes[group, default: 0] + 1
            groupSizes[group] = size
            largestVariantGroup = max(largestVariantGroup, size)
        }
        if let language = product.language { languages[language, default: 0] += 1 }
        for script in ScriptDetector.scripts(in: (product.title ?? "") + " " + (product.description ?? "")) {
            scripts[script, default: 0] += 1
        }
        if !seenIDs.insert(product.id.hashValue).inserted {
            duplicateIDCount += 1
            if duplicateIDs.count < 10 { duplicateIDs.append(product.id) }
        }
        if !product.isSafeAsFileName { unsafeIDCount += 1 }
    }

    /// Call once the catalog is read: fills the variant-group counts.
    public mutating func finish() {
        let groups = groupSizes.values.filter { $0 > 1 }
        variantGroups = groups.count
        productsInVariantGroups = groups.reduce(0, +)
    }

    /// The Merchant names of the fields a product has.
    static func presentFields(_ product: Product) -> [String] {
        var names = ["id"]
        let optional: [(String, String?)] = [
            ("title", product.title), ("description", product.description), ("link", product.link),
            ("image_link", product.imageLink), ("price", product.price?.description),
            ("sale_price", product.salePrice?.description), ("availability", product.availability), ("brand", product.brand),
            ("gtin", product.gtin), ("mpn", product.mpn), ("condition", product.condition),
            ("google_product_category", product.googleProductCategory), ("product_type", product.productType),
            ("color", product.color), ("size", product.size), ("material", product.material), ("pattern", product.pattern),
            ("gender", product.gender), ("age_group", product.ageGroup), ("item_group_id", product.itemGroupID),
        ]
        for (name, value) in optional where value != nil { names.append(name) }
        if !product.additionalImageLinks.isEmpty { names.append("additional_image_link") }
        for (index, label) in product.customLabels.enumerated() where label != nil { names.append("custom_label_\(index)") }
        if !product.highlights.isEmpty { names.append("product_highlight") }
        if !product.details.isEmpty { names.append("product_detail") }
        if !product.shipping.isEmpty { names.append("shipping") }
        var extras: Set<String> = []
        for attribute in product.extraAttributes where extras.insert(attribute.name).inserted { names.append(attribute.name) }
        return names
    }
}

/// Tells which writing systems a text uses, for catalog language reports.
public enum ScriptDetector {
    public static func scripts(in text: String) -> Set<String> {
        var found: Set<String> = []
        for scalar in text.unicodeScalars where scalar.properties.isAlphabetic {
            found.insert(script(of: scalar))
            if found.count > 3 { break }
        }
        return found
    }

    static func script(of scalar: Unicode.Scalar) -> String {
        switch scalar.value {
        case 0x0000...0x024F, 0x1E00...0x1EFF: "Latin"
        case 0x0370...0x03FF: "Greek"
        case 0x0400...0x052F: "Cyrillic"
        case 0x0590...0x05FF: "Hebrew"
        case 0x0600...0x06FF, 0x0750...0x077F, 0xFB50...0xFDFF, 0xFE70...0xFEFF: "Arabic"
        case 0x0900...0x097F: "Devanagari"
        case 0x0E00...0x0E7F: "Thai"
        case 0x3040...0x30FF, 0x31F0...0x31FF: "Kana"
        case 0x1100...0x11FF, 0xAC00...0xD7AF: "Hangul"
        case 0x4E00...0x9FFF, 0x3400...0x4DBF: "Han"
        default: "Other"
        }
    }
}
