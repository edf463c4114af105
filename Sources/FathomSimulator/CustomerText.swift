/// New everyday text for the LLM gateway (`--unique-prompts`): a customer's question in their own
/// words and the assistant's answer, assembled from parts, amounts, dates, merchants and references
/// so that nearly every one is distinct (40 to 400 bytes, several languages).
///
/// The words are chosen to be harmless to every detector: no trigger word or playbook phrase, no
/// digit run a card, account or national-number detector would take for one (amounts have at most
/// seven digits, references six). `CustomerTextTests` checks that against the rules.
package enum CustomerText {
    static let openers = [
        "", "", "Hi, ", "Hello Penny, ", "Good morning. ", "Quick question: ", "Hey there! ", "Bonjour, ",
        "Hallo, ", "Sorry to bother you, ", "Thanks in advance. ", "Dear support, ",
    ]

    static let merchants = [
        "Lidl", "Carrefour", "Ryanair", "Deutsche Bahn", "Zalando", "IKEA", "Spotify", "Netflix", "Uber",
        "Bolt", "Booking.com", "Decathlon", "Fnac", "MediaMarkt", "El Corte Inglés", "Żabka", "Rossmann",
        "the corner bakery", "my dentist", "the parking meter", "a hotel in Lisbon", "Apple Store",
    ]

    static let cities = [
        "Lisbon", "Kraków", "Lyon", "Munich", "Valencia", "Dublin", "Ghent", "Turin", "Tallinn", "Porto",
        "Malmö", "Brno", "Ljubljana", "Bilbao", "Utrecht", "Graz", "Łódź", "Nantes",
    ]

    static let months = ["January", "February", "March", "April", "May", "June", "July", "August",
                         "September", "October", "November", "December"]

    static let currencies = ["EUR", "EUR", "EUR", "GBP", "PLN", "CHF", "USD", "SEK", "CZK"]

    static let questions: [@Sendable (inout Xoshiro256) -> String] = [
        { rng in "I paid \(amount(&rng)) \(rng.pick(currencies)) to \(rng.pick(merchants)) on \(date(&rng)) and it shows twice on my statement. Can you check?" },
        { rng in "Why did \(rng.pick(merchants)) take \(amount(&rng)) \(rng.pick(currencies)) when the receipt says \(amount(&rng))?" },
        { rng in "I'm in \(rng.pick(cities)) until \(date(&rng)); will my card work at cash machines there, and what does a withdrawal cost?" },
        { rng in "Can I move \(amount(&rng)) EUR from my savings to my current account today without a penalty?" },
        { rng in "My salary of \(amount(&rng)) EUR has not arrived yet, it usually comes on the \(rng.int(in: 1...28))th. Is something delayed?" },
        { rng in "How much interest would \(amount(&rng)) EUR earn in the fixed-term deposit over \(rng.int(in: 2...36)) months?" },
        { rng in "The refund from \(rng.pick(merchants)) (order \(reference(&rng))) was promised on \(date(&rng)). When will I see it?" },
        { rng in "Wie lange dauert eine Überweisung von \(amount(&rng)) Euro nach \(rng.pick(cities))?" },
        { rng in "Combien coûte un virement de \(amount(&rng)) euros vers \(rng.pick(cities)) ?" },
        { rng in "I'd like to raise my card limit to \(amount(&rng)) EUR for a trip to \(rng.pick(cities)) on \(date(&rng))." },
        { rng in "A direct debit from \(rng.pick(merchants)) for \(amount(&rng)) \(rng.pick(currencies)) keeps failing, what can I do?" },
        { rng in "Can my partner get a second card on our joint account? We moved to \(rng.pick(cities)) on \(date(&rng))." },
        { rng in "I lost my wallet near \(rng.pick(cities)) station this morning; the last payment was \(amount(&rng)) EUR at \(rng.pick(merchants)). Please block the card." },
        { rng in "Is the \(amount(&rng)) EUR I sent to my landlord on \(date(&rng)) covered if the account turns out to be wrong? Reference \(reference(&rng))." },
        { rng in "What is the exchange rate you apply for \(rng.pick(currencies)) payments of about \(amount(&rng)), and is there a markup on weekends?" },
    ]

    static let details = [
        "", "", "", " Thank you!", " It's a bit urgent.", " I already checked the app.", " Merci beaucoup.",
        " My reference is ", " Order number ", " I'm travelling next week.", " This is the second time this month.",
    ]

    static let answers: [@Sendable (inout Xoshiro256) -> String] = [
        { rng in "Thanks for reaching out. The payment of \(amount(&rng)) \(rng.pick(currencies)) to \(rng.pick(merchants)) on \(date(&rng)) is still pending; pending items usually settle within 3 business days." },
        { rng in "I can see a refund of \(amount(&rng)) \(rng.pick(currencies)) from \(rng.pick(merchants)) being processed. It should reach your account by \(date(&rng))." },
        { rng in "Withdrawals in \(rng.pick(cities)) are free up to \(rng.int(in: 2...5)) per month; after that the fee is \(rng.int(in: 1...4)).\(rng.int(in: 10...90)) EUR." },
        { rng in "A fixed-term deposit of \(amount(&rng)) EUR over \(rng.int(in: 2...36)) months earns \(rng.int(in: 1...3)).\(rng.int(in: 10...95)) % a year. You can open one in the app under Savings." },
        { rng in "Your card limit can be changed in the app under Cards > Limits, up to \(amount(&rng)) EUR a day." },
        { rng in "Ihre Überweisung von \(amount(&rng)) Euro nach \(rng.pick(cities)) kommt in der Regel am nächsten Geschäftstag an." },
        { rng in "Le virement de \(amount(&rng)) euros vers \(rng.pick(cities)) arrive en général sous \(rng.int(in: 1...4)) jours ouvrés." },
        { rng in "I've blocked the card. A new one will be sent by post and should arrive by \(date(&rng)); the case reference is \(reference(&rng))." },
        { rng in "I'm sorry about the trouble with \(rng.pick(merchants)). Please contact them first; if they don't respond by \(date(&rng)) we can open a dispute." },
    ]

    /// A new customer question.
    package static func prompt(_ rng: inout Xoshiro256) -> String {
        var text = rng.pick(openers) + questions[rng.below(questions.count)](&rng)
        let detail = rng.pick(details)
        text += detail.hasSuffix(" ") ? detail + reference(&rng) + "." : detail
        return text
    }

    /// A new answer of the assistant.
    package static func response(_ rng: inout Xoshiro256) -> String {
        var text = answers[rng.below(answers.count)](&rng)
        if rng.chance(0.3) { text += " " + answers[rng.below(answers.count)](&rng) }
        return text
    }

    /// An amount as people write it: 12, 249.90, 1,250 or 12,480.00 (at most seven digits).
    static func amount(_ rng: inout Xoshiro256) -> String {
        let whole = [rng.int(in: 5...99), rng.int(in: 100...999), rng.int(in: 1_000...25_000)][rng.below(3)]
        let text = whole >= 1_000 ? "\(whole / 1_000),\(String(whole % 1_000 + 1_000).dropFirst())" : String(whole)
        return rng.chance(0.4) ? text + "." + String(rng.int(in: 100...199)).dropFirst() : text
    }

    /// A day as people write it: 4 March.
    static func date(_ rng: inout Xoshiro256) -> String { "\(rng.int(in: 1...28)) \(rng.pick(months))" }

    /// An order or case reference: `#` and six digits.
    static func reference(_ rng: inout Xoshiro256) -> String { "#\(rng.int(in: 100_000...999_999))" }
}
