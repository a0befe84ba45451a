/// The plaintexts and messages of RFC 8439's examples, as the text it prints beside each hex dump.
enum RFC8439Text {
    /// §2.4.2 and §2.8.2 (114 bytes).
    static let sunscreen = Array(("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
        + "the future, sunscreen would be it.").utf8)

    /// §2.5.2 (34 bytes).
    static let forumResearchGroup = Array("Cryptographic Forum Research Group".utf8)

    /// Appendix A.2 test vector #2 and A.3 #2 and #3 (375 bytes).
    static let ietfContribution = Array(("Any submission to the IETF intended by the Contributor for publication as "
        + "all or part of an IETF Internet-Draft or RFC and any statement made within the context of an IETF "
        + "activity is considered an \"IETF Contribution\". Such statements include oral statements in IETF "
        + "sessions, as well as written and electronic communications made at any time or place, which are "
        + "addressed to").utf8)

    /// Appendix A.2 test vector #3 and A.3 #4 (127 bytes).
    static let jabberwocky = Array(("'Twas brillig, and the slithy toves\nDid gyre and gimble in the wabe:\n"
        + "All mimsy were the borogoves,\nAnd the mome raths outgrabe.").utf8)

    /// Appendix A.5's plaintext (265 bytes; the quotation marks are U+201C and U+201D).
    static let internetDrafts = Array(("Internet-Drafts are draft documents valid for a maximum of six months and may "
        + "be updated, replaced, or obsoleted by other documents at any time. It is inappropriate to use "
        + "Internet-Drafts as reference material or to cite them other than as "
        + "/\u{201C}work in progress./\u{201D}").utf8)

    /// The key of Appendix A.2 #3, A.3 #4, A.4 #3 and A.5.
    static let appendixKey = [UInt8](hex: """
        1c 92 40 a5 eb 55 d3 8a f3 33 88 86 04 f6 b5 f0 47 39 17 c1 40 2b 80 09 9d ca 5c bc 20 70 75 c0
        """)
}
