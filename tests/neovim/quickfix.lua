-- Neovim as an independent LSP client of `trainlint server`: open a file, wait for
-- trainlint's diagnostics, apply its quick fix, print the results, quit.
-- Run: nvim --headless --clean -u quickfix.lua  (env: TRAINLINT_CMD, TARGET, ACTION)
local function out(line) io.stdout:write(line .. "\n") end

local cmd = vim.split(os.getenv("TRAINLINT_CMD"), "\t")
local target = os.getenv("TARGET")
local wanted = os.getenv("ACTION")

vim.cmd("edit " .. vim.fn.fnameescape(target))
local buf = vim.api.nvim_get_current_buf()
local client_id = vim.lsp.start_client({
  name = "trainlint",
  cmd = cmd,
  root_dir = vim.fn.fnamemodify(target, ":h"),
  on_exit = function(code) out("EXIT " .. code) end,
})
vim.lsp.buf_attach_client(buf, client_id)

local got = vim.wait(30000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
if not got then
  out("NO-DIAGNOSTICS")
  vim.cmd("qall!")
end
for _, d in ipairs(vim.diagnostic.get(buf)) do
  out(string.format("DIAGNOSTIC %s %d:%d %s %s", d.source, d.lnum, d.col, d.code or d.user_data.lsp.code, d.message))
end

-- Back to LSP's shape (vim.diagnostic keeps the LSP-only fields under user_data.lsp).
local lsp_diagnostics = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  local lsp = d.user_data.lsp
  table.insert(lsp_diagnostics, {
    range = {
      start = { line = d.lnum, character = vim.lsp.util.character_offset(buf, d.lnum, d.col, "utf-16") },
      ["end"] = { line = d.end_lnum, character = vim.lsp.util.character_offset(buf, d.end_lnum, d.end_col, "utf-16") },
    },
    message = d.message,
    severity = d.severity,
    source = d.source,
    code = lsp.code,
    data = lsp.data,
  })
end
local first = lsp_diagnostics[1]
local params = {
  textDocument = { uri = vim.uri_from_bufnr(buf) },
  range = first.range,
  context = { diagnostics = lsp_diagnostics },
}
local responses = vim.lsp.buf_request_sync(buf, "textDocument/codeAction", params, 30000)
local applied = false
for _, response in pairs(responses or {}) do
  if response.err then out("ERROR " .. vim.inspect(response.err)) end
  for _, action in ipairs(response.result or {}) do
    out("ACTION " .. action.title)
    if not applied and action.title:find(wanted, 1, true) then
      vim.lsp.util.apply_workspace_edit(action.edit, "utf-16")
      applied = true
    end
  end
end
out(applied and "APPLIED" or "NOT-APPLIED")
for _, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do out("BUFFER " .. line) end
vim.cmd("qall!")
