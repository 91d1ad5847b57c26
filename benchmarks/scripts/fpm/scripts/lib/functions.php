<?php
// Sixty-odd functions, as a legacy include file declares them.
function helper_0(int $x): int
{
    return $x * 1 + strlen('helper_0');
}

function helper_1(int $x): int
{
    return $x * 2 + strlen('helper_1');
}

function helper_2(int $x): int
{
    return $x * 3 + strlen('helper_2');
}

function helper_3(int $x): int
{
    return $x * 4 + strlen('helper_3');
}

function helper_4(int $x): int
{
    return $x * 5 + strlen('helper_4');
}

function helper_5(int $x): int
{
    return $x * 6 + strlen('helper_5');
}

function helper_6(int $x): int
{
    return $x * 7 + strlen('helper_6');
}

function helper_7(int $x): int
{
    return $x * 8 + strlen('helper_7');
}

function helper_8(int $x): int
{
    return $x * 9 + strlen('helper_8');
}

function helper_9(int $x): int
{
    return $x * 10 + strlen('helper_9');
}

function helper_10(int $x): int
{
    return $x * 11 + strlen('helper_10');
}

function helper_11(int $x): int
{
    return $x * 12 + strlen('helper_11');
}

function helper_12(int $x): int
{
    return $x * 13 + strlen('helper_12');
}

function helper_13(int $x): int
{
    return $x * 14 + strlen('helper_13');
}

function helper_14(int $x): int
{
    return $x * 15 + strlen('helper_14');
}

function helper_15(int $x): int
{
    return $x * 16 + strlen('helper_15');
}

function helper_16(int $x): int
{
    return $x * 17 + strlen('helper_16');
}

function helper_17(int $x): int
{
    return $x * 18 + strlen('helper_17');
}

function helper_18(int $x): int
{
    return $x * 19 + strlen('helper_18');
}

function helper_19(int $x): int
{
    return $x * 20 + strlen('helper_19');
}

function helper_20(int $x): int
{
    return $x * 21 + strlen('helper_20');
}

function helper_21(int $x): int
{
    return $x * 22 + strlen('helper_21');
}

function helper_22(int $x): int
{
    return $x * 23 + strlen('helper_22');
}

function helper_23(int $x): int
{
    return $x * 24 + strlen('helper_23');
}

function helper_24(int $x): int
{
    return $x * 25 + strlen('helper_24');
}

function helper_25(int $x): int
{
    return $x * 26 + strlen('helper_25');
}

function helper_26(int $x): int
{
    return $x * 27 + strlen('helper_26');
}

function helper_27(int $x): int
{
    return $x * 28 + strlen('helper_27');
}

function helper_28(int $x): int
{
    return $x * 29 + strlen('helper_28');
}

function helper_29(int $x): int
{
    return $x * 30 + strlen('helper_29');
}

function helper_30(int $x): int
{
    return $x * 31 + strlen('helper_30');
}

function helper_31(int $x): int
{
    return $x * 32 + strlen('helper_31');
}

function helper_32(int $x): int
{
    return $x * 33 + strlen('helper_32');
}

function helper_33(int $x): int
{
    return $x * 34 + strlen('helper_33');
}

function helper_34(int $x): int
{
    return $x * 35 + strlen('helper_34');
}

function helper_35(int $x): int
{
    return $x * 36 + strlen('helper_35');
}

function helper_36(int $x): int
{
    return $x * 37 + strlen('helper_36');
}

function helper_37(int $x): int
{
    return $x * 38 + strlen('helper_37');
}

function helper_38(int $x): int
{
    return $x * 39 + strlen('helper_38');
}

function helper_39(int $x): int
{
    return $x * 40 + strlen('helper_39');
}

function helper_40(int $x): int
{
    return $x * 41 + strlen('helper_40');
}

function helper_41(int $x): int
{
    return $x * 42 + strlen('helper_41');
}

function helper_42(int $x): int
{
    return $x * 43 + strlen('helper_42');
}

function helper_43(int $x): int
{
    return $x * 44 + strlen('helper_43');
}

function helper_44(int $x): int
{
    return $x * 45 + strlen('helper_44');
}

function helper_45(int $x): int
{
    return $x * 46 + strlen('helper_45');
}

function helper_46(int $x): int
{
    return $x * 47 + strlen('helper_46');
}

function helper_47(int $x): int
{
    return $x * 48 + strlen('helper_47');
}

function helper_48(int $x): int
{
    return $x * 49 + strlen('helper_48');
}

function helper_49(int $x): int
{
    return $x * 50 + strlen('helper_49');
}

function helper_50(int $x): int
{
    return $x * 51 + strlen('helper_50');
}

function helper_51(int $x): int
{
    return $x * 52 + strlen('helper_51');
}

function helper_52(int $x): int
{
    return $x * 53 + strlen('helper_52');
}

function helper_53(int $x): int
{
    return $x * 54 + strlen('helper_53');
}

function helper_54(int $x): int
{
    return $x * 55 + strlen('helper_54');
}

function helper_55(int $x): int
{
    return $x * 56 + strlen('helper_55');
}

function helper_56(int $x): int
{
    return $x * 57 + strlen('helper_56');
}

function page_header(string $title): string
{
    return '<html><head><title>' . htmlspecialchars($title) . '</title></head><body><table>';
}

function table_row(int $n, int $total): string
{
    return '<tr><td>' . $n . '</td><td>' . number_format($total / 100, 2) . '</td></tr>';
}

function order_total(int $n): int
{
    return helper_3($n) + helper_17($n) + helper_42($n);
}

function page_footer(): string
{
    return '</table></body></html>';
}
