//! Masking of personal data: names, phone numbers and ID-card numbers, whole or inside free
//! text. Every answer, list, export, log line and webhook that does not need the value shows it
//! through these; they must never panic and stay linear on hostile input.

/// The surname stays, every other character becomes `*`: `陈志强` → `陈**`.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

/// The first three and last four digits stay (`138****8000`), as Chinese services show a
/// mobile number; a number too short for that keeps only its last two.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    let n = chars.len();
    let (head, tail) = if n >= 11 { (3, 4) } else { (0, 2.min(n)) };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < head || i >= n - tail { *c } else { '*' })
        .collect()
}

/// Separators people put inside a number: `138 0013 8000`, `0592-5123456`, `(0592)5123456`.
fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '–' | '—' | ')' | '）' | '\u{3000}')
}

/// What a run of digits is, and how many digits stay visible at its head and tail.
fn classify(digits: &[char]) -> Option<(usize, usize)> {
    let n = digits.len();
    if !matches!(n, 10..=13 | 18) {
        return None;
    }
    let all_digits = |s: &[char]| s.iter().all(char::is_ascii_digit);
    let mobile =
        |s: &[char]| s.len() == 11 && s[0] == '1' && ('3'..='9').contains(&s[1]) && all_digits(s);
    // A resident ID card (GB 11643): 17 digits and a check character, 0-9 or X.
    if n == 18
        && all_digits(&digits[..17])
        && (digits[17].is_ascii_digit() || digits[17] == 'X' || digits[17] == 'x')
    {
        return (digits[0] != '0').then_some((3, 4));
    }
    if !all_digits(digits) {
        return None;
    }
    if mobile(digits) {
        return Some((3, 4));
    }
    // A mobile after the country code 86 (a `+` before it is not a digit and stays).
    if n == 13 && digits[..2] == ['8', '6'] && mobile(&digits[2..]) {
        return Some((5, 4));
    }
    // A landline with its area code: 0, then 2-3 more area digits, then 7-8 digits.
    if (10..=12).contains(&n) && digits[0] == '0' && digits[1] != '0' {
        return Some((3, 2));
    }
    None
}

/// One maximal run of ASCII digits (with an ID card's trailing X), by char index.
struct Group {
    start: usize,
    end: usize,
}

/// The text with every phone number (mainland mobile `1[3-9]\d{9}`, with or without `86`;
/// landline with area code) and resident ID number (18 characters, the last may be X) masked:
/// the digits between a few at the head and the tail become `*`, separators stay. Numbers that
/// are part of a longer run of digits (a 15-digit grid code, a 20-digit order number) are left.
pub fn mask_free_text(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let mut groups = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let x_ends = i < chars.len()
                && matches!(chars[i], 'X' | 'x')
                && chars.get(i + 1).is_none_or(|c| !c.is_ascii_alphanumeric());
            if x_ends {
                i += 1;
            }
            groups.push(Group { start, end: i });
        } else {
            i += 1;
        }
    }
    // Groups separated by exactly one separator form a run; windows of whole groups inside a
    // run are tried, longest first, so `2 13800138000` still finds the mobile number.
    let mut g = 0;
    while g < groups.len() {
        let mut run_end = g + 1;
        while run_end < groups.len()
            && groups[run_end].start == groups[run_end - 1].end + 1
            && is_separator(chars[groups[run_end - 1].end])
        {
            run_end += 1;
        }
        let mut a = g;
        while a < run_end {
            let mut matched = None;
            let mut b = a;
            let mut digits: Vec<char> = Vec::new();
            // Windows grow until they pass the longest pattern (18 characters).
            while b < run_end {
                digits.extend(&chars[groups[b].start..groups[b].end]);
                if digits.len() > 18 {
                    break;
                }
                b += 1;
                if let Some(keep) = classify(&digits) {
                    matched = Some((b, keep, digits.len()));
                }
            }
            match matched {
                Some((b, (head, tail), len)) => {
                    let mut seen = 0;
                    for group in &groups[a..b] {
                        for c in &mut chars[group.start..group.end] {
                            if seen >= head && seen < len - tail {
                                *c = '*';
                            }
                            seen += 1;
                        }
                    }
                    a = b;
                }
                None => a += 1,
            }
        }
        g = run_end;
    }
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobiles_landlines_and_id_numbers_are_masked_in_free_text() {
        let cases = [
            ("call 13800138000 please", "call 138****8000 please"),
            ("电话13912345678联系陈先生", "电话139****5678联系陈先生"),
            ("phone: 138 0013 8000.", "phone: 138 **** 8000."),
            ("138-0013-8000", "138-****-8000"),
            ("+86 138 0013 8000", "+86 138 **** 8000"),
            ("+8613800138000", "+86138****8000"),
            (
                "office 0592-5123456 or (0592)5123456",
                "office 059*-*****56 or (059*)*****56",
            ),
            ("ID 35020319900101123X ok", "ID 350***********123X ok"),
            ("id:350203199001011234", "id:350***********1234"),
            ("3502 0319 9001 0112 34", "350* **** **** **12 34"),
            ("2 13800138000", "2 138****8000"),
        ];
        for (given, want) in cases {
            assert_eq!(mask_free_text(given), want, "{given}");
        }
    }

    #[test]
    fn other_numbers_stay_as_they_are() {
        for text in [
            "grid 350211001001001 near the sign",
            "12800138000 is not a mobile prefix",
            "order 1380013800012345678901",
            "on 2024-07-01 at 13:00, 3 signs, 12.5 m",
            "",
            "陈女士",
        ] {
            assert_eq!(mask_free_text(text), text, "{text}");
        }
    }

    #[test]
    fn masking_is_linear_on_long_hostile_input() {
        // Twenty times the longest description, all of it one run of one-digit groups.
        let text = "1 ".repeat(20_000);
        let started = std::time::Instant::now();
        let masked = mask_free_text(&text);
        assert_eq!(masked.chars().count(), text.chars().count());
        assert!(
            started.elapsed().as_millis() < 1000,
            "{:?}",
            started.elapsed()
        );
    }
}
