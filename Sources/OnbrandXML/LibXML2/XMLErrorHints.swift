/// Turns libxml2's error codes into advice on what to change.
///
/// Codes are libxml2's `xmlParserErrors`, stable across releases.
enum XMLErrorHints {
    static func hint(forCode code: Int, message: String) -> String {
        switch code {
        case 4:  // XML_ERR_DOCUMENT_EMPTY
            return "the file is empty; it needs one root element"
        case 5:  // XML_ERR_DOCUMENT_END
            return "remove what follows the root element's end tag, or wrap everything in one root element"
        case 9, 81:  // XML_ERR_INVALID_CHAR, XML_ERR_INVALID_ENCODING
            return "save the file as UTF-8, or declare its real encoding in <?xml version=\"1.0\" encoding=\"…\"?>"
        case 23, 68:  // XML_ERR_ENTITYREF_SEMICOL_MISSING, XML_ERR_NAME_REQUIRED
            return "write a literal & as &amp; (or wrap the text in <![CDATA[ … ]]>)"
        case 26, 27:  // XML_ERR_UNDECLARED_ENTITY, XML_WAR_UNDECLARED_ENTITY
            return "only &lt; &gt; &amp; &quot; &apos; and numeric references are allowed; write a literal & as &amp;"
        case 38, 39, 40, 41:  // attribute problems
            return "quote every attribute value and escape < and & inside it"
        case 73, 76:  // XML_ERR_GT_REQUIRED, XML_ERR_TAG_NAME_MISMATCH
            return "make each end tag match the start tag it closes"
        case 77:  // XML_ERR_TAG_NOT_FINISHED
            return "the file ends before an element is closed: it may be truncated; close the element or restore the end of the file"
        case 201, 202:  // XML_NS_ERR_UNDEFINED_NAMESPACE, XML_NS_ERR_QNAME
            return "declare the prefix on the root element, for Merchant feeds xmlns:g=\"\(XMLNamespace.googleBase)\""
        default:
            if message.contains("Premature end") {
                return "the file ends too early: it may be truncated"
            }
            return "fix the XML so it is well-formed; `xmllint --noout FILE` shows the same problem"
        }
    }
}
