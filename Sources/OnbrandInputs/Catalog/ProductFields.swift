import Foundation
import OnbrandXML

/// Sets ``Product`` fields by Merchant Center attribute name, for every source that uses those
/// names (Merchant XML feeds and Onbrand's own JSON). Unknown names become extra attributes.
/// The Merchant Center attributes Onbrand maps to ``Product`` fields.
enum MerchantAttribute: String, CaseIterable {
    case id, title, description, link
    case imageLink = "image_link", additionalImageLink = "additional_image_link"
    case price, salePrice = "sale_price", availability, brand, gtin, mpn, condition
    case googleProductCategory = "google_product_category", productType = "product_type"
    case color, size, material, pattern, gender, ageGroup = "age_group", itemGroupID = "item_group_id"
    case customLabel0 = "custom_label_0", customLabel1 = "custom_label_1", customLabel2 = "custom_label_2"
    case customLabel3 = "custom_label_3", customLabel4 = "custom_label_4"
    case productHighlight = "product_highlight", productDetail = "product_detail", shipping
    case contentLanguage = "content_language", currency

    /// 0 to 4 for `custom_label_0` … `custom_label_4`.
    var customLabelIndex: Int {
        switch self {
        case .customLabel0: 0
        case .customLabel1: 1
        case .customLabel2: 2
        case .customLabel3: 3
        case .customLabel4: 4
        default: preconditionFailure("\(rawValue) is not a custom label")
        }
    }
}

extension String {
    /// Lower-cased, without allocating when it already is (the common case in feeds).
    var lowercasedIfNeeded: String {
        allUTF8Bytes { !(0x41...0x5A).contains($0) && $0 < 0x80 } ? self : lowercased()
    }

    /// Whether every UTF-8 byte satisfies `predicate`, read in place: `utf8.allSatisfy` steps
    /// through string indices, a call a byte, and it ran for several fields of every product.
    @inline(__always)
    func allUTF8Bytes(_ predicate: (UInt8) -> Bool) -> Bool {
        utf8.withContiguousStorageIfAvailable { $0.allSatisfy(predicate) } ?? utf8.allSatisfy(predicate)
    }
}

struct ProductFields {
    private(set) var id: String?
    private(set) var product = Product(id: "")
    /// A currency given apart from the price (legacy Google Base `g:currency`).
    private var separateCurrency: String?
    /// ``build()`` moved the product out and left an empty one.
    private var isProductTaken = false
    /// Prices as written, parsed in ``build()`` once the separate currency is known. Named by a
    /// flag, not a key path: reading the product through a key path copied it whole.
    private var rawPrices: [(isSale: Bool, text: String)] = []
    private(set) var problems: [(message: String, hint: String)] = []

    /// Merchant Center attribute names that map to a field.
    static let knownNames: Set<String> = Set(MerchantAttribute.allCases.map(\.rawValue))

    /// Sets an attribute by name; a name that is no Merchant attribute becomes an extra attribute.
    mutating func set(_ name: String, _ rawValue: String) {
        if let attribute = MerchantAttribute(rawValue: name) {
            set(attribute, rawValue)
        } else {
            addExtra(name, rawValue)
        }
    }

    /// Sets one single-valued or repeated attribute. The first value of a single-valued field wins.
    mutating func set(_ attribute: MerchantAttribute, _ rawValue: consuming String) {
        let value = rawValue.trimmingXMLWhitespace()
        guard !value.isEmpty else { return }
        switch attribute {
        case .id: if id == nil { id = value }
        case .title: if product.title == nil { product.title = value }
        case .description: if product.description == nil { product.description = value }
        case .link: if product.link == nil { product.link = value }
        case .imageLink: if product.imageLink == nil { product.imageLink = value }
        case .additionalImageLink: product.additionalImageLinks.append(value)
        case .price: rawPrices.append((false, value))
        case .salePrice: rawPrices.append((true, value))
        case .availability:
            let isCanonical = value.allUTF8Bytes { $0 == UInt8(ascii: "_") || (0x61...0x7A).contains($0) }
            if product.availability == nil { product.availability = isCanonical ? value : value.lowercased().replacingOccurrences(of: " ", with: "_") }
        case .brand: if product.brand == nil { product.brand = value }
        case .gtin: if product.gtin == nil { product.gtin = value }
        case .mpn: if product.mpn == nil { product.mpn = value }
        case .condition: if product.condition == nil { product.condition = value.lowercasedIfNeeded }
        case .googleProductCategory: if product.googleProductCategory == nil { product.googleProductCategory = value }
        case .productType: if product.productType == nil { product.productType = value }
        case .color: if product.color == nil { product.color = value }
        case .size: if product.size == nil { product.size = value }
        case .material: if product.material == nil { product.material = value }
        case .pattern: if product.pattern == nil { product.pattern = value }
        case .gender: if product.gender == nil { product.gender = value.lowercasedIfNeeded }
        case .ageGroup: if product.ageGroup == nil { product.ageGroup = value.lowercasedIfNeeded }
        case .itemGroupID: if product.itemGroupID == nil { product.itemGroupID = value }
        case .customLabel0, .customLabel1, .customLabel2, .customLabel3, .customLabel4:
            let index = attribute.customLabelIndex
            if product.customLabels.count <= index {
                product.customLabels += Array(repeating: nil, count: index + 1 - product.customLabels.count)
            }
            if product.customLabels[index] == nil { product.customLabels[index] = value }
        case .productHighlight: product.highlights.append(value)
        case .contentLanguage: if product.language == nil { product.language = value }
        case .currency: separateCurrency = value
        case .productDetail, .shipping: addExtra(attribute.rawValue, value)
        }
    }

    mutating func addDetail(section: String?, name: String?, value: String?) {
        guard let name = name?.trimmingXMLWhitespace(), !name.isEmpty,
            let value = value?.trimmingXMLWhitespace(), !value.isEmpty
        else {
            problems.append(("a product_detail lacks attribute_name or attribute_value", "give both, or remove the product_detail"))
            return
        }
        product.details.append(
            Product.Detail(sectionName: section?.trimmingXMLWhitespace(), attributeName: name, attributeValue: value))
    }

    mutating func addShipping(country: String?, region: String?, service: String?, price: String?) {
        product.shipping.append(
            Product.Shipping(
                country: country?.trimmingXMLWhitespace(), region: region?.trimmingXMLWhitespace(),
                service: service?.trimmingXMLWhitespace(), price: price.flatMap { Price(parsing: $0) }))
    }

    mutating func addExtra(_ name: String, _ value: consuming String) {
        let value = value.trimmingXMLWhitespace()
        if !value.isEmpty { product.extraAttributes.append(Product.Attribute(name: name, value: value)) }
    }

    /// Ready for another record, the arrays' storage kept. After ``build()`` moved a product
    /// out, the product is empty already.
    mutating func clearForNextRecord() {
        if !isProductTaken { product = Product(id: "") }
        isProductTaken = false
        id = nil
        separateCurrency = nil
        if !rawPrices.isEmpty { rawPrices.removeAll(keepingCapacity: true) }
        if !problems.isEmpty { problems.removeAll(keepingCapacity: true) }
    }

    /// The finished product, or `nil` when it has no ID. Price problems land in ``problems``.
    mutating func build() -> Product? {
        for (isSale, text) in rawPrices where (isSale ? product.salePrice : product.price) == nil {
            if let price = Price(parsing: text, defaultCurrency: separateCurrency) {
                if isSale { product.salePrice = price } else { product.price = price }
            } else {
                problems.append(
                    ("price \"\(text)\" is not an amount and a currency",
                        "write it as Merchant Center does, e.g. \"159.00 USD\""))
                product.extraAttributes.append(Product.Attribute(name: isSale ? "sale_price" : "price", value: text))
            }
        }
        guard let id else { return nil }
        // Moved out, not copied: a copy would retain and then release every string field. (Swapped
        // into a local, then returned, it was still copied once more and the local destroyed.)
        product.id = id
        isProductTaken = true
        return exchange(&product, with: Product(id: ""))
    }
}
