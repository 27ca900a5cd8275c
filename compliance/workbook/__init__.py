"""The proposal workbook: its layout from the field catalogue, the blank template, and reading
filled-in workbooks safely."""
