# Script mode: turn SRC into a C array SYM in DST.
file(READ ${SRC} hex HEX)
# character constants ('\xe2'), so bytes above 0x7f (UTF-8 text) fit a char without a conversion
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," body "${hex}")
string(REGEX REPLACE "('....','....','....','....','....','....','....','....','....','....','....','....','....','....','....','....',)" "\\1\n" body "${body}")
file(SIZE ${SRC} n)
file(WRITE ${DST} "/* generated from ${SRC}; do not edit */\n"
  "const char ${SYM}[] = {\n${body}0x00};\nconst unsigned long ${SYM}_len = ${n};\n")
