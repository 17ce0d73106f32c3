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

/// A digit as people write one: ASCII, full-width (`１３８`), or a Chinese numeral (`一三八`,
/// `幺` as a phone number's 1 is read aloud, `〇`/`零`). `None` for anything else.
fn digit_of(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        '０'..='９' => char::from_digit(c as u32 - '０' as u32, 10),
        '〇' | '零' | '洞' => Some('0'),
        '一' | '幺' | '壹' => Some('1'),
        '二' | '两' | '贰' => Some('2'),
        '三' | '叁' => Some('3'),
        '四' | '肆' => Some('4'),
        '五' | '伍' => Some('5'),
        '六' | '陆' => Some('6'),
        '七' | '柒' | '拐' => Some('7'),
        '八' | '捌' => Some('8'),
        '九' | '玖' => Some('9'),
        _ => None,
    }
}

/// An ID card's check character: X in either width and case.
fn is_check_x(c: char) -> bool {
    matches!(c, 'X' | 'x' | 'Ｘ' | 'ｘ')
}

/// Separators people put inside a number: `138 0013 8000`, `0592-5123456`, `(0592)5123456`,
/// `138.0013.8000`, `138/0013/8000`, `138_0013_8000`, in either width.
fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{3000}'
            | '\u{a0}'
            | '-'
            | '－'
            | '–'
            | '—'
            | '.'
            | '．'
            | '·'
            | '/'
            | '／'
            | '_'
            | '＿'
            | '('
            | '（'
            | ')'
            | '）'
    )
}

/// How many separator characters may stand between two groups of one number: `138  0013 8000`
/// (two spaces), `(0592) 5123456`.
const MAX_SEPARATORS: usize = 3;

/// Whether six digits are a plausible date of birth `YYMMDD` or the `MMDD` inside one.
fn is_month_day(month: &[char], day: &[char]) -> bool {
    let number = |d: &[char]| {
        d.iter()
            .fold(0, |n, c| n * 10 + c.to_digit(10).unwrap_or(0))
    };
    (1..=12).contains(&number(month)) && (1..=31).contains(&number(day))
}

/// What a run of digits is, and how many digits stay visible at its head and tail.
fn classify(digits: &[char]) -> Option<(usize, usize)> {
    let n = digits.len();
    if !matches!(n, 10..=13 | 15 | 18) {
        return None;
    }
    let all_digits = |s: &[char]| s.iter().all(char::is_ascii_digit);
    let mobile =
        |s: &[char]| s.len() == 11 && s[0] == '1' && ('3'..='9').contains(&s[1]) && all_digits(s);
    // A resident ID card (GB 11643): 17 digits and a check character, 0-9 or X.
    if n == 18 && all_digits(&digits[..17]) && (digits[17].is_ascii_digit() || digits[17] == 'X') {
        return (digits[0] != '0').then_some((3, 4));
    }
    if !all_digits(digits) {
        return None;
    }
    // A first-generation ID card (15 digits: region, YYMMDD, sequence), still in old records
    // and in people's memory. A 15-digit grid code whose middle reads as a date is masked too:
    // a public answer would rather hide a code than show a resident's number.
    if n == 15 {
        return (digits[0] != '0' && is_month_day(&digits[8..10], &digits[10..12]))
            .then_some((3, 3));
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

/// One maximal run of digits (with an ID card's trailing X), by char index.
struct Group {
    start: usize,
    end: usize,
}

/// The text with every phone number (mainland mobile `1[3-9]\d{9}`, with or without `86`;
/// landline with area code) and resident ID number (18 characters, the last may be X; or the
/// 15 digits of the first-generation card) masked, and the names people give of themselves or
/// of a caller ([`mask_names_in_text`]). Digits count in ASCII, full width or Chinese numerals,
/// with spaces, dots, slashes, dashes or underscores between their groups; the digits between a
/// few at the head and the tail become `*`, separators stay. Numbers that are part of a longer
/// run of digits (a 20-digit order number) are left.
pub fn mask_free_text(text: &str) -> String {
    mask_names_in_text(&mask_numbers(text))
}

fn mask_numbers(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let digits: Vec<Option<char>> = chars.iter().map(|&c| digit_of(c)).collect();
    let mut groups = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if digits[i].is_some() {
            let start = i;
            while i < chars.len() && digits[i].is_some() {
                i += 1;
            }
            let x_ends = i < chars.len()
                && is_check_x(chars[i])
                && chars.get(i + 1).is_none_or(|c| !c.is_alphanumeric());
            if x_ends {
                i += 1;
            }
            groups.push(Group { start, end: i });
        } else {
            i += 1;
        }
    }
    // Which groups have only separators between them and the next: one number's parts.
    let joined_to_next: Vec<bool> = groups
        .windows(2)
        .map(|pair| {
            let gap = pair[1].start - pair[0].end;
            (1..=MAX_SEPARATORS).contains(&gap)
                && chars[pair[0].end..pair[1].start]
                    .iter()
                    .all(|&c| is_separator(c))
        })
        .collect();
    // Groups with only separators between them form a run; windows of whole groups inside a
    // run are tried, longest first, so `2 13800138000` still finds the mobile number.
    let mut g = 0;
    while g < groups.len() {
        let mut run_end = g + 1;
        while run_end < groups.len() && joined_to_next[run_end - 1] {
            run_end += 1;
        }
        let mut a = g;
        while a < run_end {
            let mut matched = None;
            let mut b = a;
            let mut window: Vec<char> = Vec::new();
            // Windows grow until they pass the longest pattern (18 characters).
            while b < run_end {
                window.extend((groups[b].start..groups[b].end).map(|k| {
                    digits[k].unwrap_or('X') // the check character, the only non-digit
                }));
                if window.len() > 18 {
                    break;
                }
                b += 1;
                if let Some(keep) = classify(&window) {
                    matched = Some((b, keep, window.len()));
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

/// Words before a name people give: "我叫陈志强", "姓名：陈志强", "联系人 陈志强".
const NAME_BEFORE: &[&str] = &[
    "我叫",
    "姓名",
    "名字叫",
    "名叫",
    "联系人",
    "报告人",
    "来电人",
    "反映人",
    "户主",
    "我是",
];
/// After "我是" a name must start with a surname ("我是附近的居民" has none).
const NEEDS_SURNAME: &[&str] = &["我是"];
/// Words after a name: "陈志强来电", "陈志强先生", "陈志强女士反映".
const NAME_AFTER: &[&str] = &[
    "来电", "致电", "先生", "女士", "小姐", "阿姨", "大爷", "师傅", "老师", "同志",
];
/// Words that stand where a name could but say who, not which person: "市民来电", "我是业主".
const NOT_NAMES: &[&str] = &[
    "市民", "居民", "群众", "业主", "住户", "网友", "有人", "本人", "一位", "一名", "有位", "这位",
    "那位", "附近", "楼下", "楼上", "隔壁", "对面",
];
/// The common surnames (the first character of a two-character one, 欧阳, stands for it).
/// Before 来电, 先生 and the like a name starts with one of them: "联系陈先生" names 陈, not 联.
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董\
     袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫\
     段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章\
     鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路\
     游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费\
     卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查\
     麻苑迟邝洪蔺诸上东皇令慕尉长";
/// The longest Chinese name masked (a surname and two given characters; a two-character
/// surname with one given character is as long).
const NAME_CHARS: usize = 3;

fn is_han(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}')
}

fn is_surname(c: char) -> bool {
    SURNAMES.contains(c)
}

/// Whether `word` stands in `chars` at `at`.
fn word_at(chars: &[char], at: usize, word: &str) -> bool {
    let mut k = at;
    word.chars().all(|w| {
        let same = chars.get(k) == Some(&w);
        k += 1;
        same
    })
}

/// Names in free text, as people give their own or a caller's, masked like [`mask_name`]: the
/// surname stays. A name is up to three Chinese characters after a word such as 我叫, 姓名,
/// 联系人 (a colon or space may come between), or before one such as 来电, 先生, 女士,
/// starting with a common surname. It errs towards masking: whatever follows 我叫 is taken
/// for a name, and so are the characters after a surname-like one before 先生.
pub fn mask_names_in_text(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let says_who = |chars: &[char], at: usize| NOT_NAMES.iter().any(|w| word_at(chars, at, w));
    let mut masks: Vec<(usize, usize)> = Vec::new();
    for at in 0..chars.len() {
        // After: up to three Chinese characters, or to a word that comes after a name.
        if let Some(word) = NAME_BEFORE.iter().find(|w| word_at(&chars, at, w)) {
            let mut k = at + word.chars().count();
            while k < chars.len() && matches!(chars[k], ':' | '：' | ' ' | '\u{3000}') {
                k += 1;
            }
            let surname_ok =
                !NEEDS_SURNAME.contains(word) || chars.get(k).is_some_and(|&c| is_surname(c));
            if surname_ok && !says_who(&chars, k) {
                let end = (k..chars.len().min(k + NAME_CHARS))
                    .take_while(|&j| {
                        is_han(chars[j]) && !NAME_AFTER.iter().any(|w| word_at(&chars, j, w))
                    })
                    .last()
                    .map_or(k, |j| j + 1);
                if end - k >= 2 {
                    masks.push((k + 1, end));
                }
            }
        }
        // Before: the earliest surname among the three Chinese characters before the word,
        // that no word saying who overlaps ("市民陈志强来电" names 陈志强).
        if NAME_AFTER.iter().any(|w| word_at(&chars, at, w)) {
            let start = (at.saturating_sub(NAME_CHARS)..at).find(|&j| {
                (j..at).all(|i| is_han(chars[i]))
                    && is_surname(chars[j])
                    && !(at.saturating_sub(NAME_CHARS + 1)..at).any(|i| {
                        NOT_NAMES
                            .iter()
                            .any(|w| word_at(&chars, i, w) && i + w.chars().count() > j && i < at)
                    })
            });
            if let Some(start) = start
                && at - start >= 2
            {
                masks.push((start + 1, at));
            }
        }
    }
    for (from, to) in masks {
        for c in &mut chars[from..to] {
            *c = '*';
        }
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
            // A grid code whose middle is no date (a 15-digit one that reads as a date of birth
            // is masked as an old ID card would be).
            "grid 350211003045001 near the sign",
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
    fn numbers_written_the_ways_people_write_them_are_masked() {
        let cases = [
            // Full-width digits, as a phone's Chinese keyboard types them.
            ("电话１３８００１３８０００", "电话１３８****８０００"),
            ("１３８ ００１３ ８０００", "１３８ **** ８０００"),
            // Dots, slashes, underscores and double spaces between the groups.
            ("138.0013.8000", "138.****.8000"),
            ("138/0013/8000", "138/****/8000"),
            ("138_0013_8000", "138_****_8000"),
            ("138  0013  8000", "138  ****  8000"),
            ("（0592）5123456", "（059*）*****56"),
            // Chinese numerals, as people spell a number out, and mixed forms.
            ("手机一三八零零一三八零零零", "手机一三八****八零零零"),
            ("幺三八 洞洞幺三 八洞洞洞", "幺三八 **** 八洞洞洞"),
            ("138零零13八000", "138****八000"),
            // The 15 digits of a first-generation ID card (YYMMDD inside), and an 18-digit
            // card with a full-width check character.
            ("身份证350203900101123", "身份证350*********123"),
            ("35020319900101123Ｘ", "350***********123Ｘ"),
        ];
        for (given, want) in cases {
            assert_eq!(mask_free_text(given), want, "{given}");
        }
    }

    #[test]
    fn names_people_give_in_free_text_are_masked() {
        let cases = [
            ("我叫陈志强，住在三楼", "我叫陈**，住在三楼"),
            ("姓名：林芳 路灯不亮", "姓名：林* 路灯不亮"),
            ("联系人 王小明", "联系人 王**"),
            ("我是张伟，家门口积水", "我是张*，家门口积水"),
            ("市民陈志强来电反映噪音", "市民陈**来电反映噪音"),
            ("王小明先生说井盖丢了", "王**先生说井盖丢了"),
            ("张三来电", "张*来电"),
            ("欧阳娜娜女士", "欧阳**女士"),
        ];
        for (given, want) in cases {
            assert_eq!(mask_free_text(given), want, "{given}");
        }
    }

    #[test]
    fn words_that_say_who_but_are_not_names_stay() {
        for text in [
            "市民来电反映路灯不亮",
            "我是业主，楼下积水",
            "我是附近的居民",
            "联系陈先生",
            "一位女士说井盖丢了",
            "有人来电",
            "陈先生",
            "the bench by the greenway is broken",
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
