import Foundation
import OnbrandXML

/// Sets ``Product`` fields by Merchant Center attribute name, for every source that uses those
/// names (Merchant XML feeds and Onbrand's own JSON). Unknown names become extra attributes.
struct ProductFields {
    private(set) var id: String?
    private(set) var product = Product(id: "")
    /// A currency given apart from the price (legacy Google Base `g:currency`).
    private var separateCurrency: String?
    private var rawPrices: [(field: WritableKeyPath<Product, Price?>, text: String)] = []
    private(set) var problems: [(message: String, hint: String)] = []

    /// Merchant Center attribute names that map to a field.
    static let knownNames: Set<String> = [
        "id", "title", "description", "link", "image_link", "additional_image_link", "price", "sale_price",
        "availability", "brand", "gtin", "mpn", "condition", "google_product_category", "product_type", "color",
        "size", "material", "pattern", "gender", "age_group", "item_group_id", "custom_label_0", "custom_label_1",
        "custom_label_2", "custom_label_3", "custom_label_4", "product_highlight", "product_detail", "shipping",
        "content_language", "currency",
    ]

    /// Sets one single-valued or repeated attribute. The first value of a single-valued field wins.
    mutating func set(_ name: String, _ rawValue: String) {
        let value = rawValue.trimmingXMLWhitespace()
        guard !value.isEmpty else { return }
        switch name {
        case "id": if id == nil { id = value }
        case "title": setOnce(\.title, value)
        case "description": setOnce(\.description, value)
        case "link": setOnce(\.link, value)
        case "image_link": setOnce(\.imageLink, value)
        case "additional_image_link": product.additionalImageLinks.append(value)
        case "price": rawPrices.append((\.price, value))
        case "sale_price": rawPrices.append((\.salePrice, value))
        case "availability":
            setOnce(\.availability, value.lowercased().replacingOccurrences(of: " ", with: "_"))
        case "brand": setOnce(\.brand, value)
        case "gtin": setOnce(\.gtin, value)
        case "mpn": setOnce(\.mpn, value)
        case "condition": setOnce(\.condition, value.lowercased())
        case "google_product_category": setOnce(\.googleProductCategory, value)
        case "product_type": setOnce(\.productType, value)
        case "color": setOnce(\.color, value)
        case "size": setOnce(\.size, value)
        case "material": setOnce(\.material, value)
        case "pattern": setOnce(\.pattern, value)
        case "gender": setOnce(\.gender, value.lowercased())
        case "age_group": setOnce(\.ageGroup, value.lowercased())
        case "item_group_id": setOnce(\.itemGroupID, value)
        case "custom_label_0", "custom_label_1", "custom_label_2", "custom_label_3", "custom_label_4":
            let index = Int(String(name.last!))!
            if product.customLabels[index] == nil { product.customLabels[index] = value }
        case "product_highlight": product.highlights.append(value)
        case "content_language": setOnce(\.language, value)
        case "currency": separateCurrency = value
        default: product.extraAttributes.append(Product.Attribute(name: name, value: value))
        }
    }

    private mutating func setOnce(_ field: WritableKeyPath<Product, String?>, _ value: String) {
        if product[keyPath: field] == nil { product[keyPath: field] = value }
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

    mutating func addExtra(_ name: String, _ value: String) {
        let value = value.trimmingXMLWhitespace()
        if !value.isEmpty { product.extraAttributes.append(Product.Attribute(name: name, value: value)) }
    }

    /// The finished product, or `nil` when it has no ID. Price problems land in ``problems``.
    mutating func build() -> Product? {
        for (field, text) in rawPrices where product[keyPath: field] == nil {
            if let price = Price(parsing: text, defaultCurrency: separateCurrency) {
                product[keyPath: field] = price
            } else {
                problems.append(
                    ("price \"\(text)\" is not an amount and a currency",
                        "write it as Merchant Center does, e.g. \"159.00 USD\""))
                product.extraAttributes.append(Product.Attribute(name: field == \.price ? "price" : "sale_price", value: text))
            }
        }
        guard let id else { return nil }
        product.id = id
        return product
    }
}
