package dev.folk.spring.boot.http;

import java.time.LocalDate;

/**
 * HTTP dates in request headers ({@code If-Modified-Since}, {@code If-Unmodified-Since},
 * {@code If-Range}) read as nginx reads them, so that a file's conditional requests are answered as
 * nginx answers them: the three forms of RFC 9110 5.6.7 (IMF-fixdate, RFC 850, asctime), the day
 * with two digits in the first two, and whatever follows the time ignored (the zone is taken as
 * GMT). The container's own parser is more lenient ({@code Thu, 4 Jan ...}), and a date nginx
 * cannot read changes the answer: a failed {@code If-Unmodified-Since}, a modified file.
 */
final class HttpDate {

    private static final int[] DAYS_IN_MONTH = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    private HttpDate() {
    }

    /** Seconds since the epoch, or -1 if {@code value} is no date nginx reads. */
    static long parse(String value) {
        int n = value.length();
        int p = 0;
        boolean asctime = false;
        while (p < n && value.charAt(p) != ',') {
            if (value.charAt(p) == ' ') {
                asctime = true;
                break;
            }
            p++;
        }
        p++;
        while (p < n && value.charAt(p) == ' ') {
            p++;
        }
        if (n - p < 18) {
            return -1;
        }
        boolean rfc850 = false;
        int day = 0;
        if (!asctime) {
            day = twoDigits(value, p);
            if (day < 0) {
                return -1;
            }
            p += 2;
            char separator = at(value, p);
            if (separator == '-') {
                rfc850 = true;
            } else if (separator != ' ' || n - p < 18) {
                return -1;
            }
            p++;
        }
        int month = month(value, p);
        if (month < 0) {
            return -1;
        }
        p += 3;
        if (!asctime && at(value, p++) != (rfc850 ? '-' : ' ')) {
            return -1;
        }
        int year = 0;
        if (asctime) {
            p++; // the character after the month, then one space more for a day of one digit
            if (at(value, p) == ' ') {
                p++;
            }
            day = digit(at(value, p++));
            if (day < 0) {
                return -1;
            }
            if (at(value, p) != ' ') {
                int second = digit(at(value, p++));
                if (second < 0) {
                    return -1;
                }
                day = day * 10 + second;
            }
            if (n - p < 14) {
                return -1;
            }
        } else if (rfc850) {
            year = twoDigits(value, p);
            if (year < 0) {
                return -1;
            }
            year += year < 70 ? 2000 : 1900;
            p += 2;
        } else {
            year = fourDigits(value, p);
            if (year < 0) {
                return -1;
            }
            p += 4;
        }
        if (at(value, p++) != ' ') {
            return -1;
        }
        int hour = twoDigits(value, p);
        int minute = at(value, p + 2) == ':' ? twoDigits(value, p + 3) : -1;
        int second = at(value, p + 5) == ':' ? twoDigits(value, p + 6) : -1;
        if (hour < 0 || minute < 0 || second < 0) {
            return -1;
        }
        if (asctime) {
            year = at(value, p + 8) == ' ' ? fourDigits(value, p + 9) : -1;
            if (year < 0) {
                return -1;
            }
        }
        // Day 00 passes, as in nginx: it is the day before the month's first.
        if (hour > 23 || minute > 59 || second > 59 || day > DAYS_IN_MONTH[month]
                || month == 1 && day == 29 && !LocalDate.ofYearDay(year, 1).isLeapYear()) {
            return -1;
        }
        long days = LocalDate.of(year, month + 1, 1).toEpochDay() + day - 1;
        return days * 86400 + hour * 3600L + minute * 60L + second;
    }

    /** The month (0-11) whose name starts at {@code p}, told apart by the letters nginx looks at; -1 if none. */
    private static int month(String s, int p) {
        return switch (at(s, p)) {
            case 'J' -> at(s, p + 1) == 'a' ? 0 : at(s, p + 2) == 'n' ? 5 : 6;
            case 'F' -> 1;
            case 'M' -> at(s, p + 2) == 'r' ? 2 : 4;
            case 'A' -> at(s, p + 1) == 'p' ? 3 : 7;
            case 'S' -> 8;
            case 'O' -> 9;
            case 'N' -> 10;
            case 'D' -> 11;
            default -> -1;
        };
    }

    private static char at(String s, int i) {
        return i < s.length() ? s.charAt(i) : '\0';
    }

    private static int digit(char c) {
        return c >= '0' && c <= '9' ? c - '0' : -1;
    }

    private static int twoDigits(String s, int p) {
        int high = digit(at(s, p));
        int low = digit(at(s, p + 1));
        return high < 0 || low < 0 ? -1 : high * 10 + low;
    }

    private static int fourDigits(String s, int p) {
        int high = twoDigits(s, p);
        int low = twoDigits(s, p + 2);
        return high < 0 || low < 0 ? -1 : high * 100 + low;
    }
}
