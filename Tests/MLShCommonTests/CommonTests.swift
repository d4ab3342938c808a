import Foundation
import MLShCommon
import Testing

@Suite struct ClosestNameTests {
    @Test func suggestsALikelyTypo() {
        #expect(closestName(to: "stpe", in: ["step", "stop", "map"]) == "step")     // a transposition is one edit
        #expect(closestName(to: "Lenght", in: ["length", "width"]) == "length")    // case is ignored
        #expect(closestName(to: "sepal_lenght", in: ["sepal_length", "petal_length"]) == "sepal_length")
        #expect(closestName(to: "cat", in: ["bat", "hat"]) == "bat")               // the first of the closest
        #expect(closestName(to: "xyz", in: ["abc", "width"]) == nil)              // too far
        #expect(closestName(to: "abcdefghij", in: ["abcdefgxyz"]) == "abcdefgxyz") // 3 edits at most
        #expect(closestName(to: "abcdefghij", in: ["abcdefwxyz"]) == nil)
        #expect(closestName(to: "x", in: [String]()) == nil)
        #expect(closestName(to: "x", in: ["x"]) == nil)                          // never the name itself
    }

    /// One-letter names get a guess only when asked for column names' rule.
    @Test func oneLetterNamesFollowTheCallersRule() {
        #expect(closestName(to: "b", in: ["a"]) == "a")
        #expect(closestName(to: "b", in: ["a"], keepingALetter: true) == nil)
        #expect(closestName(to: "X", in: ["x"], keepingALetter: true) == "x")
        #expect(closestName(to: "fo", in: ["foo"], keepingALetter: true) == "foo")
    }
}

@Suite struct XMLEscapingTests {
    @Test func markupCharactersBecomeEntities() {
        #expect(escapeXML("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;")
        #expect(escapeXML("x\u{1}y\n\tz\r") == "x\u{1}y\n\tz\r")
        #expect(escapeXML("'\u{301}é😀") == "&apos;\u{301}é😀")   // scalar by scalar, a combining mark too
    }

    @Test func optionsForXML10AttributesAndText() {
        #expect(escapeXML("x\u{1}y\n\t\r\u{FFFE}\u{FFFF}", [.xml10, .whitespaceReferences]) == "x\u{FFFD}y&#10;&#9;&#13;\u{FFFD}\u{FFFD}")
        #expect(escapeXML("x\u{1}y\n\t\r<", [.xml10, .carriageReturnReference]) == "x\u{FFFD}y\n\t&#13;&lt;")
        #expect(escapeXML("a\r\nb", [.carriageReturnReference]) == "a&#13;\nb")
    }
}

@Suite struct ProcessorsTests {
    @Test func usableCoresAreActiveProcessorsAtLeastOne() {
        #expect(Processors.usable >= 1)
        #expect(Processors.usable <= ProcessInfo.processInfo.processorCount)
        #expect(Processors.usable == max(1, ProcessInfo.processInfo.activeProcessorCount))
    }
}
