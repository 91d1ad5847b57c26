<?php
// A legacy page: its library declares functions (again in every request), then it renders a table.
require __DIR__ . '/../lib/functions.php';
echo page_header('Orders');
for ($row = 1; $row <= 50; $row++) {
    echo table_row($row, order_total($row));
}
echo page_footer();
