public import Foundation
public import OnbrandXML

/// What Onbrand embeds in every image (IPTC Photo Metadata in XMP): alt text and an extended
/// description for assistive technology, language-tagged, and the mark that the image was made by
/// a trained model (Merchant Center and the EU AI Act ask for it).
public struct ImageMetadata: Sendable, Hashable {
    /// IPTC's code for images made by a trained model.
    public static let trainedAlgorithmicMedia = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"

    /// `Iptc4xmpCore:AltTextAccessibility`, in order; the first is also written as `x-default`.
    public var altText: [LocalizedText]
    /// `Iptc4xmpCore:ExtDescrAccessibility`.
    public var extendedDescription: [LocalizedText]
    /// `Iptc4xmpExt:DigitalSourceType`.
    public var digitalSourceType: String?
    /// `dc:description`, only when the brand asks for a caption; never the alt text.
    public var caption: [LocalizedText]

    public struct LocalizedText: Sendable, Hashable, Codable {
        public var language: String
        public var text: String

        public init(language: String, text: String) {
            self.language = language
            self.text = text
        }
    }

    public init(
        altText: [LocalizedText], extendedDescription: [LocalizedText] = [], digitalSourceType: String? = Self.trainedAlgorithmicMedia,
        caption: [LocalizedText] = []
    ) {
        self.altText = altText
        self.extendedDescription = extendedDescription
        self.digitalSourceType = digitalSourceType
        self.caption = caption
    }
}

/// Writes and reads the XMP packet.
public enum XMPPacket {
    static let namespaces = [
        ("x", "adobe:ns:meta/"), ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
        ("Iptc4xmpCore", "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/"), ("Iptc4xmpExt", "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"),
        ("dc", "http://purl.org/dc/elements/1.1/"),
    ]
    static func namespace(_ prefix: String) -> String { namespaces.first { $0.0 == prefix }!.1 }

    /// The packet, UTF-8, with the standard wrapper so other tools can find and rewrite it in place.
    public static func build(_ metadata: ImageMetadata) -> String {
        func alternatives(_ name: String, _ texts: [ImageMetadata.LocalizedText]) -> String {
            guard let first = texts.first else { return "" }
            var items = ["     <rdf:li xml:lang=\"x-default\">\(escape(first.text))</rdf:li>"]
            for text in texts { items.append("     <rdf:li xml:lang=\"\(escape(text.language))\">\(escape(text.text))</rdf:li>") }
            return "   <\(name)>\n    <rdf:Alt>\n" + items.joined(separator: "\n") + "\n    </rdf:Alt>\n   </\(name)>\n"
        }
        var body = alternatives("Iptc4xmpCore:AltTextAccessibility", metadata.altText)
        body += alternatives("Iptc4xmpCore:ExtDescrAccessibility", metadata.extendedDescription)
        if let source = metadata.digitalSourceType {
            body += "   <Iptc4xmpExt:DigitalSourceType>\(escape(source))</Iptc4xmpExt:DigitalSourceType>\n"
        }
        body += alternatives("dc:description", metadata.caption)
        let declarations = namespaces.dropFirst(2).map { "\n    xmlns:\($0.0)=\"\($0.1)\"" }.joined()
        return """
            <?xpacket begin="\u{FEFF}" id="W5M0MpCehiHzreSzNTczkc9d"?>
            <x:xmpmeta xmlns:x="adobe:ns:meta/">
             <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
              <rdf:Description rdf:about=""\(declarations)>
            \(body)  </rdf:Description>
             </rdf:RDF>
            </x:xmpmeta>
            <?xpacket end="w"?>
            """
    }

    /// Reads the fields Onbrand writes from any XMP packet (attribute or element form).
    public static func parse(_ packet: String) throws(XMLError) -> ImageMetadata {
        // The BOM inside `begin="…"` is data, not a byte-order mark; libxml2 takes it as it is.
        let root = try XMLDocument.parse(string: packet, displayName: "XMP packet")
        let rdf = namespace("rdf")
        func descendants(of element: XMLElement, named name: XMLName) -> [XMLElement] {
            element.elements.flatMap { ($0.name == name ? [$0] : []) + descendants(of: $0, named: name) }
        }
        var metadata = ImageMetadata(altText: [], digitalSourceType: nil)
        func texts(in element: XMLElement) -> [ImageMetadata.LocalizedText] {
            descendants(of: element, named: XMLName("li", namespace: rdf)).compactMap { item in
                let language = item.attributes.first { $0.name.localName == "lang" }?.value ?? "x-default"
                return language == "x-default" ? nil : .init(language: language, text: item.text)
            }
        }
        for description in descendants(of: root, named: XMLName("Description", namespace: rdf)) {
            for attribute in description.attributes where attribute.name == XMLName("DigitalSourceType", namespace: namespace("Iptc4xmpExt")) {
                metadata.digitalSourceType = attribute.value
            }
            for case .element(let child) in description.children {
                switch child.name {
                case XMLName("AltTextAccessibility", namespace: namespace("Iptc4xmpCore")): metadata.altText = texts(in: child)
                case XMLName("ExtDescrAccessibility", namespace: namespace("Iptc4xmpCore")): metadata.extendedDescription = texts(in: child)
                case XMLName("DigitalSourceType", namespace: namespace("Iptc4xmpExt")): metadata.digitalSourceType = child.text
                case XMLName("description", namespace: namespace("dc")): metadata.caption = texts(in: child)
                default: break
                }
            }
        }
        return metadata
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            // XML 1.0 has no place for most control characters; they cannot reach a reader intact.
            case "\u{0}"..."\u{8}", "\u{B}", "\u{C}", "\u{E}"..."\u{1F}": escaped += " "
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
