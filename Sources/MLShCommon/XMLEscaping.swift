/// What `escapeXML` does beyond replacing `& < > " '` with entities.
public struct XMLEscaping: OptionSet, Sendable {
    /// The option bits.
    public let rawValue: Int
    /// An escaping with these option bits.
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Characters XML 1.0 cannot hold (control characters other than tab, newline and
    /// carriage return, U+FFFE, U+FFFF) become U+FFFD, so a strict parser reads the document.
    public static let xml10 = XMLEscaping(rawValue: 1)
    /// Tab, newline and carriage return as `&#9;`, `&#10;`, `&#13;`: an attribute value keeps
    /// them (a parser turns raw ones into spaces).
    public static let whitespaceReferences = XMLEscaping(rawValue: 2)
    /// Carriage return as `&#13;`: element text keeps it (a parser turns a raw `\r\n` into `\n`).
    public static let carriageReturnReference = XMLEscaping(rawValue: 4)
}

/// `text` made safe for XML and HTML content and attribute values: `&`, `<`, `>`, `"`
/// and `'` as entities, and what `options` adds.
public func escapeXML(_ text: String, _ options: XMLEscaping = []) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        case "\n" where options.contains(.whitespaceReferences): out += "&#10;"
        case "\t" where options.contains(.whitespaceReferences): out += "&#9;"
        case "\r" where options.contains(.whitespaceReferences) || options.contains(.carriageReturnReference): out += "&#13;"
        case "\n", "\t", "\r": out.unicodeScalars.append(scalar)
        default:
            let v = scalar.value
            if options.contains(.xml10), v < 0x20 || v == 0xFFFE || v == 0xFFFF {
                out += "\u{FFFD}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out
}
