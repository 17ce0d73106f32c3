//! Time, the one place for calendar maths: the times we write (RFC 3339 UTC, Open311's W3C),
//! the times other systems send (RFC 3339 / W3C datetimes, a plain `YYYY-MM-DD HH:MM:SS` in a
//! platform's local time, a bare date, Unix seconds or milliseconds), and the city's own days
//! and minutes (UTC+8). Parsing never guesses a time zone: a time without one gets the offset
//! the caller names. Civil dates after Howard Hinnant's public-domain algorithms, so that no date
//! crate is needed in the components.

/// The city's civil time is UTC+8 all year (China has no daylight saving), so a fixed offset is
/// exact for days and time windows.
pub const CITY_UTC_OFFSET_MINUTES: i64 = 8 * 60;
pub const CITY_UTC_OFFSET_MS: i64 = CITY_UTC_OFFSET_MINUTES * 60_000;
pub const DAY_MS: i64 = 86_400_000;

/// Days from 1970-01-01 to a civil date.
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day number since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// RFC 3339 UTC with milliseconds, from Unix milliseconds.
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

/// The city day (days since 1970-01-01, UTC+8) of a Unix time in milliseconds.
pub fn city_day(ms: i64) -> i64 {
    (ms + CITY_UTC_OFFSET_MS).div_euclid(DAY_MS)
}

/// Minute of the city's day at a Unix time in milliseconds.
pub fn local_minute(now_ms: i64) -> i64 {
    (now_ms.div_euclid(60_000) + CITY_UTC_OFFSET_MINUTES).rem_euclid(24 * 60)
}

/// `YYYY-MM-DD` (years 1970–9999) as a day number; `None` for anything else.
pub fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (number(&s[0..4])?, number(&s[5..7])?, number(&s[8..10])?);
    if y < 1970 || !(1..=12).contains(&m) || d < 1 {
        return None;
    }
    let day = days_from_civil(y, m, d);
    (civil_from_days(day) == (y, m, d)).then_some(day)
}

/// A day number as `YYYY-MM-DD`.
pub fn date_string(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The first day of the day's month.
pub fn month_start(day: i64) -> i64 {
    let (y, m, _) = civil_from_days(day);
    days_from_civil(y, m, 1)
}

/// The first day of the month after the day's.
pub fn next_month_start(day: i64) -> i64 {
    let (y, m, _) = civil_from_days(day);
    if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, m + 1, 1)
    }
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn number(s: &str) -> Option<i64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// A UTC offset such as `Z`, `+08:00`, `+0800` or `-05`, in minutes.
pub fn parse_offset(s: &str) -> Option<i64> {
    if !s.is_ascii() {
        return None;
    }
    if s == "Z" || s == "z" {
        return Some(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = match rest.len() {
        2 => (number(rest)?, 0),
        4 => (number(&rest[..2])?, number(&rest[2..])?),
        5 if &rest[2..3] == ":" => (number(&rest[..2])?, number(&rest[3..])?),
        _ => return None,
    };
    (h <= 23 && m <= 59).then_some(sign * (h * 60 + m))
}

/// Milliseconds since the Unix epoch of a datetime; a time without an offset is read at
/// `default_offset_minutes` east of UTC. `None` for anything that is not a valid time.
pub fn parse(input: &str, default_offset_minutes: i64) -> Option<i64> {
    let s = input.trim();
    // A timestamp is ASCII; anything else would also split inside a character below.
    if s.len() < 10 || !s.is_ascii() {
        return None;
    }
    let (date, rest) = s.split_at(10);
    let d = date.as_bytes();
    if d[4] != b'-' || d[7] != b'-' {
        return None;
    }
    let (year, month, day) = (
        number(&date[..4])?,
        number(&date[5..7])?,
        number(&date[8..])?,
    );
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let (mut hour, mut minute, mut second, mut millis) = (0, 0, 0, 0);
    let mut offset = default_offset_minutes;
    if !rest.is_empty() {
        let time = rest.strip_prefix(['T', 't', ' '])?;
        // The clock part ends where the offset begins.
        let split = time.find(['Z', 'z', '+', '-']).unwrap_or(time.len());
        let (clock, zone) = time.split_at(split);
        if !zone.is_empty() {
            offset = parse_offset(zone)?;
        }
        let (hms, fraction) = clock.split_once('.').unwrap_or((clock, ""));
        let parts: Vec<&str> = hms.split(':').collect();
        if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.len() != 2) {
            return None;
        }
        hour = number(parts[0])?;
        minute = number(parts[1])?;
        second = parts.get(2).map_or(Some(0), |p| number(p))?;
        if !fraction.is_empty() {
            let digits: String = fraction.chars().take(3).collect();
            number(fraction)?;
            millis = number(&format!("{digits:0<3}"))?;
        }
        // 60 is a leap second; it is read as the next second's start.
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset * 60;
    Some(seconds * 1000 + millis)
}

/// A time as other systems send it: a datetime string (see [`parse`]) or a JSON number of
/// Unix seconds (below 10^11) or milliseconds.
pub fn from_json(value: &serde_json::Value, default_offset_minutes: i64) -> Option<i64> {
    match value {
        serde_json::Value::String(s) => {
            parse(s, default_offset_minutes).or_else(|| epoch(s.trim().parse::<f64>().ok()?))
        }
        serde_json::Value::Number(n) => epoch(n.as_f64()?),
        _ => None,
    }
}

fn epoch(n: f64) -> Option<i64> {
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    Some(if n < 1e11 {
        (n * 1000.0) as i64
    } else {
        n as i64
    })
}

/// The W3C datetime Open311 asks for: seconds, UTC, `Z`.
pub fn w3c(ms: i64) -> String {
    let full = rfc3339(ms);
    format!("{}Z", &full[..19])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specs_examples_are_the_same_instant() {
        // The two examples of the Open311 date/time section name one instant.
        let eastern = parse("1994-11-05T08:15:30-05:00", 0).unwrap();
        let utc = parse("1994-11-05T13:15:30Z", 0).unwrap();
        assert_eq!(eastern, utc);
        assert_eq!(w3c(utc), "1994-11-05T13:15:30Z");
        assert_eq!(rfc3339(utc), "1994-11-05T13:15:30.000Z");
    }

    #[test]
    fn local_times_dates_fractions_and_epochs_are_read() {
        let beijing = parse("2024-07-01 08:00:00", 8 * 60).unwrap();
        assert_eq!(rfc3339(beijing), "2024-07-01T00:00:00.000Z");
        assert_eq!(parse("2024-07-01", 0), parse("2024-07-01T00:00:00Z", 0));
        assert_eq!(parse("2024-07-01T00:00:00.5Z", 0).unwrap() % 1000, 500);
        assert_eq!(
            parse("2024-07-01T08:00+0800", 0),
            parse("2024-07-01T00:00Z", 0)
        );
        let ms = 1_719_792_000_000;
        assert_eq!(from_json(&serde_json::json!(ms / 1000), 0), Some(ms));
        assert_eq!(from_json(&serde_json::json!(ms), 0), Some(ms));
        assert_eq!(from_json(&serde_json::json!("1719792000"), 0), Some(ms));
    }

    #[test]
    fn nonsense_is_refused() {
        for bad in [
            "",
            "2024-13-01",
            "2023-02-29",
            "2024-07-01T25:00Z",
            "2024-07-01T08:00+25:00",
            "yesterday",
            "2024-07-01X",
            // Characters of more than one byte where a byte offset would split one (the API
            // fuzzer's find: Open311's `end_date` answered 500).
            "'O\u{a4f3c}\u{1f}õÒåÂ-\u{1b}Tì",
            "2024-07-0é",
            "2024-07-01T08:00+0é:0",
        ] {
            assert_eq!(parse(bad, 0), None, "{bad}");
        }
        assert!(parse("2024-02-29", 0).is_some());
        assert_eq!(parse_offset("+0é:0"), None);
    }
}
