-- Copyright: Contributors to the osg_htc.site collection
-- SPDX-License-Identifier: Apache-2.0
--
-- Pandoc filter of tools/gen_docsite.py: a Markdown guide of docs/ as a page of
-- the collection's docsite. Metadata from the tool: page (this page's name),
-- guides (the names of every page, space-separated), label_prefix (what every
-- RST label of the collection's extra docs starts with) and files_url (where
-- the repository's files are read on the web, ending in /).
--
-- Headings get labels under label_prefix (the page title the page's own label,
-- the others page.<GitHub anchor>), links to another guide or to a heading
-- become :ref: roles, and links to other files of the repository point at them
-- on the web, where a docsite reader can follow them.

local page, prefix, files_url
local guides = {}

local function read_meta(meta)
  page = pandoc.utils.stringify(meta.page)
  prefix = pandoc.utils.stringify(meta.label_prefix)
  files_url = pandoc.utils.stringify(meta.files_url)
  for name in pandoc.utils.stringify(meta.guides):gmatch("%S+") do
    guides[name] = true
  end
end

local function label(name, anchor)
  if anchor == nil or anchor == "" then
    return prefix .. name
  end
  return prefix .. name .. "." .. anchor
end

-- A path of the repository from a link relative to docs/: "../roles/x" is roles/x.
local function repository_path(target)
  local parts = { "docs" }
  for part in target:gmatch("[^/]+") do
    if part == ".." then
      table.remove(parts)
    elseif part ~= "." then
      table.insert(parts, part)
    end
  end
  local path = table.concat(parts, "/")
  if target:sub(-1) == "/" then
    path = path .. "/"
  end
  return path
end

local function ref(text, target)
  local escaped = text:gsub("\\", "\\\\"):gsub("`", "\\`"):gsub("<", "\\<")
  return pandoc.RawInline("rst", ":ref:`" .. escaped .. " <" .. target .. ">`")
end

local function header(el)
  if el.level == 1 then
    el.identifier = label(page)
  else
    el.identifier = label(page, el.identifier)
  end
  return el
end

-- reStructuredText cannot nest markup in a link's text (``code`` inside a
-- hyperlink), so such a text becomes plain.
local function plain(el)
  local nested = false
  el.content:walk({ Inline = function(inline)
    if inline.t ~= "Str" and inline.t ~= "Space" then
      nested = true
    end
  end })
  if nested then
    el.content = pandoc.Inlines({ pandoc.Str(pandoc.utils.stringify(el.content)) })
  end
  return el
end

local function link(el)
  local target = el.target
  if target:match("^%a[%w+.-]*:") then
    return plain(el) -- https:, mailto: ...
  end
  local text = pandoc.utils.stringify(el.content)
  local anchor = target:match("^#(.+)$")
  if anchor then
    return ref(text, label(page, anchor))
  end
  local name, rest = target:match("^([%w_.-]+)%.md(.*)$")
  if name and guides[name] then
    return ref(text, label(name, rest:match("^#(.+)$")))
  end
  el.target = files_url .. repository_path(target)
  return plain(el)
end

return {
  { Meta = read_meta },
  { Header = header, Link = link },
}
